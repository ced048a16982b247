/** TRC-104: memory that was writable and executable became executable (mprotect W+X → X). */
import { Event, Metadata, Origin, register, emit, EventId, mem_prot_alert, MemProtAlert } from "../sdk";

register(
  new Metadata(
    "TRC-104", "1", "Dynamic code loading detected", "dynamic_code_loading",
    "Possible dynamic code loading was detected as the binary's memory is both writable and executable. Writing to an executable allocated memory region could be a technique used by adversaries to run code undetected and without dropping executables.",
  )
    .prop("Severity", 2)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Software Packing")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--deb98323-e13f-4b0c-8d94-175379069062")
    .prop("external_id", "T1027.002")
    .select(EventId.mem_prot_alert, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  if (mem_prot_alert.alert(e) == MemProtAlert.MprotectWXToX) emit(e);
}
