/** TRC-1020: the kernel reported hooked file operations of /proc (a rootkit). */
import { Event, Metadata, Origin, register, finding, EventId, hooked_proc_fops, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-1020", "1", "File operations hooking on proc filesystem detected", "proc_fops_hooking",
    "File operations hooking on proc filesystem detected. The proc filesystem is an interface for the running processes as files. This allows programs like `ps` and `top` to check what are the running processes. File operations are the functions defined on a file or directory. File operations hooking includes replacing the default function used to perform a basic task on files and directories like enumerating files. By hooking the file operations of /proc an adversary gains control on certain system function, such as file listing or other basic function performed by the operation system. The adversary may also hijack the execution flow and execute it's own code. File operation hooking is considered a malicious behavior that is performed by rootkits and may indicate that the host's kernel has been compromised. Hidden modules are marked as hidden symbol owners and indicate further malicious activity of an adversary.",
  )
    .prop("Severity", 3)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Rootkit")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--0f20e3cb-245b-4a61-8a91-2d93f7cb0e9b")
    .prop("external_id", "T1014")
    .select(EventId.hooked_proc_fops, Origin.Host),
  onEvent,
);

/** The argument is a JSON array of {SymbolName, ModuleOwner}: anything but [] (or null) is a hook. */
function nonEmptyArray(json: Bytes): bool {
  let t = json.trim();
  return t.byteAt(0) == 0x5b && !t.slice(1).trim().startsWith("]");
}

function onEvent(e: Event): void {
  let hooked = hooked_proc_fops.hooked_fops_pointers(e);
  // Data holds the symbols as the event's JSON text (the finding ABI has no structured values).
  if (nonEmptyArray(hooked)) finding(e).str("Hooked proc file operations", hooked).emit();
}
