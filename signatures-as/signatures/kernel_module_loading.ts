/** TRC-1017: a kernel module was loaded. */
import { Event, Metadata, Origin, register, emit, EventId } from "../sdk";

register(
  new Metadata(
    "TRC-1017", "1", "Kernel module loading detected", "kernel_module_loading",
    "Loading of a kernel module was detected. Kernel modules are binaries meant to run in the kernel. Adversaries may try and load kernel modules to extend their capabilities and avoid detection by running in the kernel and not user space.",
  )
    .prop("Severity", 2)
    .prop("Category", "persistence")
    .prop("Technique", "Kernel Modules and Extensions")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--a1b52199-c8c5-438a-9ded-656f1d0888c6")
    .prop("external_id", "T1547.006")
    .select(EventId.module_load, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  emit(e);
}
