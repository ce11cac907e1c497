export * from './packet-device.js';
export * from './binding.js';
export { AfPacketDevice, type AfPacketDeviceOptions } from './af-packet-device.js';
export { MemoryDevice, type MemoryDeviceOptions, type FrameMeta } from './memory-device.js';
export { EventFd } from './eventfd.js';
export { watchFd, type FdWatcher } from './fd-watch.js';
export * from './veth.js';
