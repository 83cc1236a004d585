import { Counter, Gauge, Registry } from 'prom-client';
import { PHASES, type Phase } from '../vmio.js';

/** The pod's Prometheus metrics (served on :2112). */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly progress = new Gauge({ name: 'v2v_disk_progress_ratio', help: 'Copy progress of each disk, 0..1', labelNames: ['disk'], registers: [this.registry] });
  private readonly bytes = new Gauge({ name: 'v2v_disk_bytes_copied', help: 'Bytes of each disk copied so far', labelNames: ['disk'], registers: [this.registry] });
  private readonly total = new Gauge({ name: 'v2v_disk_bytes_total', help: 'Bytes of each disk to copy', labelNames: ['disk'], registers: [this.registry] });
  private readonly phase = new Gauge({ name: 'v2v_phase', help: '1 for the current phase of the conversion', labelNames: ['phase'], registers: [this.registry] });
  private readonly overall = new Gauge({ name: 'v2v_import_progress', help: "vm-import-operator's progress value (0-100)", registers: [this.registry] });
  private readonly errors = new Counter({ name: 'v2v_errors_total', help: 'Errors by code', labelNames: ['code'], registers: [this.registry] });

  setPhase(phase: Phase, progress: number): void {
    for (const p of PHASES) this.phase.set({ phase: p }, p === phase ? 1 : 0);
    this.overall.set(progress);
  }

  diskProgress(disk: number, done: number, total: number): void {
    const label = { disk: String(disk) };
    this.bytes.set(label, done);
    this.total.set(label, total);
    this.progress.set(label, total > 0 ? done / total : 0);
  }

  error(code: string): void {
    this.errors.inc({ code });
  }
}
