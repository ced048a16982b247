/** TRC-1015: an ELF file was written under a hidden name or directory (a path containing "/."). */
import { Event, Metadata, Origin, register, emit, EventId, magic_write, isElf } from "../sdk";

register(
  new Metadata(
    "TRC-1015", "1", "Hidden executable creation detected", "hidden_file_created",
    "A hidden executable (ELF file) was created on disk. This activity could be legitimate; however, it could indicate that an adversary is trying to avoid detection by hiding their programs.",
  )
    .prop("Severity", 2)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Hidden Files and Directories")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--ec8fc7e2-b356-455c-8db5-2e37be158e7d")
    .prop("external_id", "T1564.001")
    .select(EventId.magic_write, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  if (isElf(magic_write.bytes(e)) && magic_write.pathname(e).contains("/.")) emit(e);
}
