// A validateDomainXml for convertGuest until the libvirt binding is wired:
// libvirt's own domain parser through `virsh -c test:///default define` (the
// test driver: no daemon, nothing persisted).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversionError } from './errors.js';
import { runTool } from './run-tool.js';

export async function validateDomainXmlWithVirsh(xml: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'v2v-domxml-'));
  try {
    const file = join(dir, 'domain.xml');
    await writeFile(file, xml);
    const result = await runTool('virsh', ['-q', '-c', 'test:///default', 'define', file]);
    if (result.code !== 0) {
      throw new ConversionError('CONVERSION_DOMAIN_XML_INVALID', `libvirt refused the generated domain XML: ${result.output.trim()}`, {
        hint: 'this is a bug in v2v\'s domain XML builder; report it with the VM\'s inventory (v2v inventory -o yaml)',
        details: { xml },
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
