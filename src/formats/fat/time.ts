/** FAT timestamps: local-time fields with 2-second resolution, 1980–2107; dudkit treats the epoch as UTC. */
export interface FatTime {
  date: number;
  time: number;
  /** Creation time's extra 10 ms units (0–199): the odd second. */
  tenths: number;
}

const MIN = Date.UTC(1980, 0, 1) / 1000;
const MAX = Date.UTC(2107, 11, 31, 23, 59, 59) / 1000;

export function fatTime(epoch: number): FatTime {
  const d = new Date(Math.min(Math.max(epoch, MIN), MAX) * 1000);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    tenths: (d.getUTCSeconds() & 1) * 100,
  };
}
