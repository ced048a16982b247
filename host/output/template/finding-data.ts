/**
 * What a template sees for a finding: Tracee's `*detect.Finding` as Go
 * structs (types/detect/detect.go, types/protocol, types/trace/trace.go at
 * v0.24.1), so Tracee's own templates run unchanged:
 *
 *   .Data                     map[string]interface{} — the signature's data
 *   .SigMetadata              ID Version Name EventName Description Tags Properties
 *   .Event.Headers.Selector   Name Origin Source
 *   .Event.Payload            trace.Event: Timestamp (ns) ProcessName HostName Args …
 *   .Context                  the same trace.Event (older tracee-rules templates use it)
 *
 * Every struct field also answers to its JSON name (`.Event.Payload.processName`,
 * `.SigMetadata.eventName`), and toJson writes the JSON names, so
 * `toJson .Event.Payload` is the event exactly as `-o json` prints it.
 */
import type { DecodeOptions } from '../../events/batch-reader.ts';
import type { EventArg, TraceeEvent } from '../../events/event-json.ts';
import type { Finding } from '../../engine/finding.ts';
import { findingContext } from '../finding-json.ts';
import { GoStruct, GoStructType } from './values.ts';

const FindingType = new GoStructType('*detect.Finding', [
  { name: 'Data' },
  { name: 'Event' },
  { name: 'SigMetadata' },
  { name: 'Context', hidden: true },
]);

const SignatureMetadataType = new GoStructType('detect.SignatureMetadata', [
  { name: 'ID', aliases: ['id'] },
  { name: 'Version', aliases: ['version'] },
  { name: 'Name', aliases: ['name'] },
  { name: 'EventName', aliases: ['eventName'] },
  { name: 'Description', aliases: ['description'] },
  { name: 'Tags', aliases: ['tags'] },
  { name: 'Properties', aliases: ['properties'] },
]);

const ProtocolEventType = new GoStructType('protocol.Event', [{ name: 'Headers' }, { name: 'Payload' }]);
const HeadersType = new GoStructType('protocol.EventHeaders', [{ name: 'Selector' }]);
const SelectorType = new GoStructType('protocol.Selector', [{ name: 'Name' }, { name: 'Origin' }, { name: 'Source' }]);

const FileType = new GoStructType('trace.File', [{ name: 'Path', json: 'path' }]);
const ContainerType = new GoStructType('trace.Container', [
  { name: 'ID', json: 'id', omitEmpty: true },
  { name: 'Name', json: 'name', omitEmpty: true },
  { name: 'ImageName', json: 'image', omitEmpty: true },
  { name: 'ImageDigest', json: 'imageDigest', omitEmpty: true },
]);
const KubernetesType = new GoStructType('trace.Kubernetes', [
  { name: 'PodName', json: 'podName', omitEmpty: true },
  { name: 'PodNamespace', json: 'podNamespace', omitEmpty: true },
  { name: 'PodUID', json: 'podUID', omitEmpty: true },
  { name: 'PodSandbox', json: 'podSandbox', omitEmpty: true },
]);
const ContextFlagsType = new GoStructType('trace.ContextFlags', [
  { name: 'ContainerStarted', json: 'containerStarted' },
  { name: 'IsCompat', json: 'isCompat' },
]);
const ArgMetaType = new GoStructType('trace.ArgMeta', [{ name: 'Name', json: 'name' }, { name: 'Type', json: 'type' }]);
const ArgumentType = new GoStructType('trace.Argument', [{ name: 'ArgMeta', embedded: true }, { name: 'Value', json: 'value' }]);
const MetadataType = new GoStructType('*trace.Metadata', [{ name: 'Version' }, { name: 'Description' }, { name: 'Tags' }, { name: 'Properties' }]);

const EventType = new GoStructType('trace.Event', [
  { name: 'Timestamp', json: 'timestamp' },
  { name: 'ThreadStartTime', json: 'threadStartTime' },
  { name: 'ProcessorID', json: 'processorId' },
  { name: 'ProcessID', json: 'processId' },
  { name: 'CgroupID', json: 'cgroupId' },
  { name: 'ThreadID', json: 'threadId' },
  { name: 'ParentProcessID', json: 'parentProcessId' },
  { name: 'HostProcessID', json: 'hostProcessId' },
  { name: 'HostThreadID', json: 'hostThreadId' },
  { name: 'HostParentProcessID', json: 'hostParentProcessId' },
  { name: 'UserID', json: 'userId' },
  { name: 'MountNS', json: 'mountNamespace' },
  { name: 'PIDNS', json: 'pidNamespace' },
  { name: 'ProcessName', json: 'processName' },
  { name: 'Executable', json: 'executable' },
  { name: 'HostName', json: 'hostName' },
  { name: 'ContainerID', json: 'containerId' },
  { name: 'Container', json: 'container', omitEmpty: true },
  { name: 'Kubernetes', json: 'kubernetes', omitEmpty: true },
  { name: 'EventID', json: 'eventId', asString: true },
  { name: 'EventName', json: 'eventName' },
  { name: 'MatchedPolicies', json: 'matchedPolicies', omitEmpty: true },
  { name: 'ArgsNum', json: 'argsNum' },
  { name: 'ReturnValue', json: 'returnValue' },
  { name: 'Syscall', json: 'syscall' },
  { name: 'StackAddresses', json: 'stackAddresses' },
  { name: 'ContextFlags', json: 'contextFlags' },
  { name: 'ThreadEntityId', json: 'threadEntityId' },
  { name: 'ProcessEntityId', json: 'processEntityId' },
  { name: 'ParentEntityId', json: 'parentEntityId' },
  { name: 'Args', json: 'args' },
  { name: 'Metadata', json: 'metadata', omitEmpty: true },
]);

/** trace.Event as a Go struct value. */
export function traceEventStruct(e: TraceeEvent): GoStruct {
  return EventType.make({
    Timestamp: e.timestamp,
    ThreadStartTime: e.threadStartTime,
    ProcessorID: e.processorId,
    ProcessID: e.processId,
    CgroupID: e.cgroupId,
    ThreadID: e.threadId,
    ParentProcessID: e.parentProcessId,
    HostProcessID: e.hostProcessId,
    HostThreadID: e.hostThreadId,
    HostParentProcessID: e.hostParentProcessId,
    UserID: e.userId,
    MountNS: e.mountNamespace,
    PIDNS: e.pidNamespace,
    ProcessName: e.processName,
    Executable: FileType.make({ Path: e.executable?.path ?? '' }),
    HostName: e.hostName,
    ContainerID: e.containerId,
    Container: ContainerType.make({ ID: e.container?.id ?? '', Name: e.container?.name ?? '', ImageName: e.container?.image ?? '', ImageDigest: e.container?.imageDigest ?? '' }),
    Kubernetes: KubernetesType.make({
      PodName: e.kubernetes?.podName ?? '', PodNamespace: e.kubernetes?.podNamespace ?? '', PodUID: e.kubernetes?.podUID ?? '', PodSandbox: e.kubernetes?.podSandbox ?? false,
    }),
    EventID: Number(e.eventId),
    EventName: e.eventName,
    MatchedPolicies: e.matchedPolicies,
    ArgsNum: e.argsNum,
    ReturnValue: e.returnValue,
    Syscall: e.syscall,
    StackAddresses: e.stackAddresses,
    ContextFlags: ContextFlagsType.make({ ContainerStarted: e.contextFlags.containerStarted, IsCompat: e.contextFlags.isCompat }),
    ThreadEntityId: e.threadEntityId,
    ProcessEntityId: e.processEntityId,
    ParentEntityId: e.parentEntityId,
    Args: e.args.map(argumentStruct),
    Metadata: e.metadata ? MetadataType.make({ Version: e.metadata.Version, Description: e.metadata.Description, Tags: e.metadata.Tags, Properties: e.metadata.Properties }) : null,
  });
}

function argumentStruct(a: EventArg): GoStruct {
  return ArgumentType.make({ ArgMeta: ArgMetaType.make({ Name: a.name, Type: a.type }), Value: a.value });
}

/** Tracee's Origin(): container once started, container-init before, host otherwise. */
function origin(e: TraceeEvent): string {
  if (e.contextFlags.containerStarted) return 'container';
  if (e.container?.id) return 'container-init';
  return 'host';
}

/**
 * The value Tracee's templates execute against for this finding. Decodes the
 * triggering record once (with `options`, e.g. parse-arguments).
 */
export function findingTemplateData(f: Finding, options: DecodeOptions = {}): GoStruct {
  const e = findingContext(f, options);
  const payload = traceEventStruct(e);
  const m = f.signature;
  return FindingType.make({
    Data: f.data,
    Event: ProtocolEventType.make({
      Headers: HeadersType.make({ Selector: SelectorType.make({ Name: e.eventName, Origin: origin(e), Source: 'tracee' }) }),
      Payload: payload,
    }),
    SigMetadata: SignatureMetadataType.make({
      ID: m.id, Version: m.version, Name: m.name, EventName: m.eventName, Description: m.description, Tags: m.tags, Properties: m.properties,
    }),
    Context: payload,
  });
}
