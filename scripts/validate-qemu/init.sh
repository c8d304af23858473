#!/bin/busybox sh
# The guest's /init for `npm run validate:qemu`: load the block drivers, run
# the load the kernel command line asks for (cp.phases=...), say when it is
# done, give the host time to sample QEMU's maps, and reset (QEMU exits: -no-reboot).
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# Order from modprobe --show-depends on the host (virtio_ring before virtio, ...).
for m in $(cat /modules.order); do insmod "/modules/$m" 2>/dev/null; done
phases=$(sed -n 's/.* cp\.phases=\([^ ]*\).*/\1/p' /proc/cmdline)
for dev in $(echo "$phases" | tr ',+' '\n\n' | sed -n 's/^\([a-z0-9]*\):.*/\1/p' | grep -v '^sleep$'); do
  i=0
  while [ ! -b "/dev/$dev" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done
echo coropool-guest-ready
# Idle: the host counts QEMU's maps before any load (its baseline besides coroutine stacks).
sleep 2
# Phases run one after another; devices joined by + in one phase run together.
# Each phase's end is said (the host samples QEMU's stacks at these idle points).
n=0
for phase in $(echo "$phases" | tr ',' ' '); do
  n=$((n + 1)); kind=quiet
  for job in $(echo "$phase" | tr '+' ' '); do
    dev=${job%%:*}; rest=${job#*:}; depth=${rest%%:*}; secs=${rest#*:}
    if [ "$dev" = sleep ]; then sleep "$depth"; else kind=load; /aio-randread "/dev/$dev" "$depth" "$secs" & fi
  done
  wait
  echo "coropool-phase-done $n $kind"
done
echo coropool-load-done
sleep 3
reboot -f
