import { openSource } from '../../adapters/index.js';
import { validateDomainXml } from '../../native/libvirt.js';
import { verifyBoot } from '../convert/boot-check.js';
import { convertGuest } from '../convert/index.js';
import { copyDisk } from '../copy/engine.js';
import type { PipelineDeps } from '../pipeline/convert-vm.js';
import { SourcePool } from '../pipeline/source-pool.js';
import type { CliContext } from './context.js';

/** The composition root's one pool: the real adapters, with the environment main read. */
export function openSourcePool(ctx: CliContext): SourcePool {
  return new SourcePool((config) => openSource(config, { env: ctx.runtime.env, signal: ctx.signal }), ctx.log, ctx.signal);
}

/** The real copy engine, virt-v2v, and libvirt's check of the domain XML: what convert, batch and pod run. */
export function pipelineDeps(ctx: CliContext, sources: SourcePool): PipelineDeps {
  return {
    sources,
    copyDisk,
    convertGuest,
    validateDomainXml: async (xml) => {
      await validateDomainXml(xml);
    },
    verifyBoot,
    env: ctx.runtime.env,
    log: ctx.log,
    signal: ctx.signal,
  };
}

/** Runs `work` with a pool that is always closed after it. */
export async function withSourcePool<T>(ctx: CliContext, work: (sources: SourcePool) => Promise<T>): Promise<T> {
  const sources = openSourcePool(ctx);
  try {
    return await work(sources);
  } finally {
    await sources.close();
  }
}
