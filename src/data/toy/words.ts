// The toy world's fixed vocabulary: common lowercase English words of 3–10 letters, plus words
// with repeated letters that trip up real LLMs ("How many r in strawberry?").

/** Words whose letter counts are the classic probes; they head the list. */
export const PROBE_WORDS: readonly string[] = ['strawberry', 'raspberry', 'blueberry', 'banana', 'committee', 'bookkeeper', 'balloon'];

export const TOY_WORDS: readonly string[] = [
  ...PROBE_WORDS,
  'cranberry', 'blackberry', 'gooseberry', 'apple', 'cherry', 'coffee', 'letter', 'mirror', 'pepper',
  'parallel', 'address', 'success', 'grammar', 'tomorrow', 'occasion', 'pizza', 'puppy', 'bubble',
  'hello', 'moon', 'tree', 'book', 'cat', 'dog', 'sun', 'sky', 'red', 'blue', 'green', 'yellow',
  'orange', 'purple', 'water', 'river', 'ocean', 'island', 'forest', 'garden', 'flower', 'grass',
  'stone', 'sand', 'cloud', 'rain', 'snow', 'storm', 'winter', 'summer', 'spring', 'autumn',
  'morning', 'evening', 'night', 'today', 'friend', 'family', 'mother', 'father', 'sister', 'brother',
  'baby', 'child', 'people', 'person', 'teacher', 'doctor', 'farmer', 'artist', 'singer', 'dancer',
  'house', 'window', 'door', 'table', 'chair', 'bottle', 'cup', 'plate', 'spoon', 'knife',
  'bread', 'butter', 'cheese', 'egg', 'milk', 'sugar', 'salt', 'honey', 'lemon', 'carrot',
  'potato', 'tomato', 'onion', 'garlic', 'rice', 'pasta', 'soup', 'salad', 'cookie', 'muffin',
  'school', 'paper', 'pencil', 'letter', 'number', 'word', 'story', 'music', 'guitar', 'piano',
  'violin', 'drum', 'song', 'dance', 'game', 'ball', 'soccer', 'tennis', 'hockey', 'swimming',
  'horse', 'rabbit', 'turtle', 'monkey', 'tiger', 'lion', 'zebra', 'giraffe', 'kitten', 'parrot',
  'eagle', 'owl', 'fish', 'shark', 'whale', 'dolphin', 'snake', 'frog', 'bee', 'spider',
  'happy', 'funny', 'silly', 'sunny', 'quick', 'quiet', 'little', 'middle', 'simple', 'gentle',
  'yellow', 'street', 'coffee', 'sheep', 'wheel', 'needle', 'cotton', 'kettle', 'rocket', 'planet',
  'jungle', 'desert', 'valley', 'mountain', 'village', 'city', 'bridge', 'tunnel', 'castle', 'palace',
  'bottle', 'hammer', 'ladder', 'button', 'ribbon', 'pillow', 'blanket', 'basket', 'bucket', 'candle',
  'tooth', 'hand', 'foot', 'head', 'heart', 'smile', 'laugh', 'dream', 'sleep', 'travel',
  'seven', 'eleven', 'twelve', 'hundred', 'million', 'zero', 'level', 'radar', 'kayak', 'noon',
  'apparel', 'assess', 'accept', 'banner', 'cabbage', 'dessert', 'giggle', 'goggles', 'jelly', 'lollipop',
  'marble', 'nugget', 'office', 'puzzle', 'rubber', 'scissors', 'tattoo', 'toffee', 'wizard', 'zipper',
].filter((w, i, all) => all.indexOf(w) === i); // a few words appear twice above; keep the first
