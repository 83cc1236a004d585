import { validateDomainXml } from '../../native/libvirt.js';
import { convertGuest } from '../convert/index.js';
import { copyDisk } from '../copy/engine.js';
import type { ConvertVmDeps } from '../pipeline/convert-vm.js';

/** The real copy engine, virt-v2v, and libvirt's check of the domain XML: what convert, batch and pod run. */
export const PIPELINE_DEPS: Pick<ConvertVmDeps, 'copyDisk' | 'convertGuest' | 'validateDomainXml'> = {
  copyDisk,
  convertGuest,
  validateDomainXml: async (xml) => {
    await validateDomainXml(xml);
  },
};
