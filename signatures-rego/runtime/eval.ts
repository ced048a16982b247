// The compiled policy's entry: the code generator replaces this import with
// the plans. In Tracee bundles it also points the two globals below at the
// bundle configuration (JSON text in the data segment).

@external("env", "rt_policy_eval")
export declare function policyEval(ctx: usize): void;

export let rt_bundle_cfg_ptr: usize = 0;
export let rt_bundle_cfg_len: usize = 0;
