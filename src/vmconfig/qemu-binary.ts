/**
 * QEMU's system emulator by its program's name: qemu-system-<target>, and
 * the names distributions give it (RHEL's qemu-kvm, Debian's and Proxmox's
 * kvm). Not qemu-img, qemu-nbd, qemu-io, qemu-storage-daemon, qemu-ga or a
 * user-mode qemu-<arch>: none of them runs a VM.
 */
import { basename } from "node:path";

const DISTRIBUTION_NAMES = new Set(["qemu-kvm", "kvm"]);

/** Whether `program` (a path or a bare name) names a QEMU system emulator. */
export function isQemuSystemEmulator(program: string): boolean {
  const name = basename(program);
  return /^qemu-system-[\w.-]+$/.test(name) || DISTRIBUTION_NAMES.has(name);
}
