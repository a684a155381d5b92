// Learning-rate schedules (lr is a graph input, so changing it never recompiles):
//   warm-up:  lr(s) = peak · (s + 1) / warmup            for s < warmup   (s counts from 0)
//   constant: lr(s) = peak                               afterwards
//   cosine:   lr(s) = min + (peak − min) · ½(1 + cos(π · p)), p = (s − warmup) / (total − warmup)
// (the linear warm-up + cosine decay of NeMo / Megatron and TRL's get_cosine_schedule_with_warmup).

export interface ScheduleOptions {
  kind: 'constant' | 'cosine';
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor of the cosine decay (default 0). */
  minLr?: number;
}

export function learningRate(step: number, o: ScheduleOptions): number {
  if (step < o.warmupSteps) return (o.peakLr * (step + 1)) / o.warmupSteps;
  if (o.kind === 'constant') return o.peakLr;
  const min = o.minLr ?? 0;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const p = Math.min(1, (step - o.warmupSteps) / span);
  return min + (o.peakLr - min) * 0.5 * (1 + Math.cos(Math.PI * p));
}
