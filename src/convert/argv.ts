// Command lines and environment of every external tool the conversion runs,
// as pure functions (golden-tested): what runs is readable in one place.

/** `virt-v2v-in-place -i libvirtxml DOMAIN.xml`: converts the disks the XML points at, in place. */
export function inPlaceArgv(options: { domainXml: string; verbose?: boolean }): string[] {
  return [
    '-i',
    'libvirtxml',
    // A multi-boot guest must fail with a message, not wait for an answer on stdin.
    '--root',
    'single',
    ...(options.verbose ? ['-v', '-x'] : []),
    options.domainXml,
  ];
}

/** A qcow2 overlay whose backing file is the base disk: every write lands in the overlay. */
export function overlayCreateArgv(base: { path: string; format: 'raw' | 'qcow2' }, overlay: string): string[] {
  return ['create', '-q', '-f', 'qcow2', '-b', base.path, '-F', base.format, overlay];
}

/** Writes the overlay's clusters into its backing file; `-d` skips emptying the overlay we delete next. */
export function overlayCommitArgv(overlay: string): string[] {
  return ['commit', '-q', '-d', '-f', 'qcow2', overlay];
}

/**
 * nbdkit serving a raw disk read-only on a Unix socket. The file plugin reads
 * the file on every request (no cache of its own), so a client sees what is
 * written into the disk later: the live view the early NIC appliance boots on.
 */
export function liveViewArgv(options: { path: string; socket: string; pidFile: string }): string[] {
  return ['--exit-with-parent', '--foreground', '--readonly', '--unix', options.socket, '--pidfile', options.pidFile, 'file', `file=${options.path}`];
}

/** A qcow2 overlay over an NBD export on a Unix socket: the appliance's writes land here. */
export function nbdOverlayCreateArgv(socket: string, overlay: string): string[] {
  return ['create', '-q', '-f', 'qcow2', '-b', `nbd+unix:///?socket=${socket}`, '-F', 'raw', overlay];
}

/** Points the overlay at the base disk without touching data: the live view served exactly that disk. */
export function overlayRebaseArgv(overlay: string, base: { path: string; format: 'raw' | 'qcow2' }): string[] {
  return ['rebase', '-q', '-u', '-f', 'qcow2', '-b', base.path, '-F', base.format, overlay];
}

/** The overlay's allocation map; `-U` reads it while an appliance holds it open. */
export function overlayMapArgv(overlay: string): string[] {
  return ['map', '-U', '--output=json', '-f', 'qcow2', overlay];
}

export interface AccelerationChoice {
  /** libguestfs must not try KVM (absent, or present but unusable). */
  forceTcg: boolean;
}

/**
 * The environment of virt-v2v and libguestfs tools: the direct backend (no
 * libvirtd needed) and, when KVM is unusable, TCG forced — libguestfs would
 * otherwise pick a /dev/kvm that exists but aborts qemu.
 */
export function libguestfsEnv(base: NodeJS.ProcessEnv, choice: AccelerationChoice): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, LIBGUESTFS_BACKEND: 'direct' };
  // The settings are a colon-separated list the user may have set for other reasons.
  const settings = (base['LIBGUESTFS_BACKEND_SETTINGS'] ?? '').split(':').filter((s) => s.length > 0);
  if (choice.forceTcg && !settings.includes('force_tcg')) settings.push('force_tcg');
  if (settings.length) env['LIBGUESTFS_BACKEND_SETTINGS'] = settings.join(':');
  // virt-v2v colours and wraps only for a tty; keep its output plain for the parser.
  env['TERM'] = 'dumb';
  return env;
}
