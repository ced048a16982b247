/** TRC-1030: the kernel reported a hooked syscall table entry (a rootkit). */
import { Event, Metadata, Origin, register, emit, EventId } from "../sdk";

register(
  new Metadata(
    "TRC-1030", "1", "Syscall table hooking detected", "syscall_hooking",
    "Syscall table hooking detected. Syscalls (system calls) are the interface between user applications and the kernel. By hooking the syscall table an adversary gains control on certain system function, such as file writing and reading or other basic function performed by the operation system. The adversary may also hijack the execution flow and execute it's own code. Syscall table hooking is considered a malicious behavior that is performed by rootkits and may indicate that the host's kernel has been compromised. Hidden modules are marked as hidden symbol owners and indicate further malicious activity of an adversary.",
  )
    .prop("Severity", 3)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Rootkit")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--0f20e3cb-245b-4a61-8a91-2d93f7cb0e9b")
    .prop("external_id", "T1014")
    .select(EventId.hooked_syscall, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  emit(e);
}
