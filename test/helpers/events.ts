/** Tracee JSON events for tests, with only the fields a test cares about set. */
export function traceeEvent(eventName: string, args: Array<[string, unknown]>, context: Record<string, unknown> = {}) {
  return {
    timestamp: 1732000000123456789n.toString(), processorId: 1, processId: 4242, threadId: 4242, parentProcessId: 1,
    hostProcessId: 4242, hostThreadId: 4242, hostParentProcessId: 1, userId: 0, mountNamespace: 4026531841, pidNamespace: 4026531836,
    processName: 'trigger', hostName: 'test-host', cgroupId: 1, containerId: '', eventName,
    contextFlags: { containerStarted: false, isCompat: false },
    args: args.map(([name, value]) => ({ name, type: 'unknown', value })), ...context,
  };
}
