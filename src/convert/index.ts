// Guest conversion: virt-v2v-in-place over overlays, NIC renaming.
export { convertGuest, type ConvertDisk, type ConvertEvent, type ConvertGuestOptions, type ConvertStep, type ConversionReport } from './convert.js';
export { ConversionError, classifyConversionFailure, type ConversionErrorCode } from './errors.js';
export { type GuestOs } from './guest-probe.js';
export { renameGuestNics, type ChangedFile, type NicRenameReport } from './nics-apply.js';
export { planNicRenames, type NicNaming, type NicPlan } from './nics.js';
export { parseProgressLine, ProgressParser, type ConversionPhase, type ConversionProgress } from './progress.js';
export { buildDomainXml, type DomainDisk } from './domain-xml.js';
export { detectAcceleration, chooseAcceleration } from './accel.js';
