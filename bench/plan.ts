/** How big and how long each figure is measured: full (the committed table), quick, or smoke (tests). */
export interface Plan {
  mode: 'full' | 'quick' | 'smoke';
  connections: number;
  loadMs: number;
  e2eMs: number;
  e2eRates: number[];
  backlog: number;
  liveMs: number;
  liveRate: number;
  liveRelays: number;
  liveClientsPerRelay: number;
  liveUnfiltered: number;
  scaleRows: number;
  scaleQueries: number;
  /** scale-out: the worker processes of each drain (the smoke run leaves out four: the same code as two, 15 s more of the suite). */
  scaleOutWorkers: readonly number[];
  /** cost: events per second offered, and for how long. */
  costRate: number;
  costMs: number;
}

export const PLANS: Record<Plan['mode'], Plan> = {
  full: {
    mode: 'full', connections: 32, loadMs: 15_000, e2eMs: 15_000, e2eRates: [200, 500], backlog: 50_000,
    liveMs: 20_000, liveRate: 500, liveRelays: 50, liveClientsPerRelay: 10, liveUnfiltered: 5, scaleRows: 1_000_000, scaleQueries: 100, costRate: 500, costMs: 20_000, scaleOutWorkers: [1, 2, 4],
  },
  quick: {
    mode: 'quick', connections: 32, loadMs: 3_000, e2eMs: 3_000, e2eRates: [200, 500], backlog: 3_000,
    liveMs: 4_000, liveRate: 500, liveRelays: 50, liveClientsPerRelay: 2, liveUnfiltered: 5, scaleRows: 50_000, scaleQueries: 30, costRate: 500, costMs: 4_000, scaleOutWorkers: [1, 2, 4],
  },
  smoke: {
    mode: 'smoke', connections: 4, loadMs: 500, e2eMs: 500, e2eRates: [20], backlog: 60,
    liveMs: 500, liveRate: 20, liveRelays: 3, liveClientsPerRelay: 1, liveUnfiltered: 1, scaleRows: 500, scaleQueries: 3, costRate: 20, costMs: 1_000, scaleOutWorkers: [1, 2],
  },
};
