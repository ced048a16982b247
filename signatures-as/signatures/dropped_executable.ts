/** TRC-1022: a container process wrote an ELF file (outside memory-backed paths). */
import { Event, Metadata, Origin, register, finding, EventId, magic_write, isElf, isMemoryPath } from "../sdk";

register(
  new Metadata(
    "TRC-1022", "1", "New executable dropped", "dropped_executable",
    "An Executable file was dropped in the system during runtime. Container images are usually built with all binaries needed inside. A dropped binary may indicate that an adversary infiltrated your container.",
  )
    .prop("Severity", 2)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Masquerading")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--42e8de7b-37b2-4258-905a-6897815e58e0")
    .prop("external_id", "T1036")
    .select(EventId.magic_write, Origin.Container),
  onEvent,
);

function onEvent(e: Event): void {
  let path = magic_write.pathname(e);
  if (isElf(magic_write.bytes(e)) && !isMemoryPath(path)) finding(e).str("path", path).emit();
}
