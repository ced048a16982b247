/**
 * Containers: what the host knows about the container an event comes from
 * (Tracee's `containers` data source: name, image, digest, pod name,
 * namespace, UID and sandbox), asked through the `tracee.container_get`
 * import with the event's containerRef.
 *
 *   let c = container(e);
 *   if (c.known && c.image.startsWith("docker.io/library/nginx")) …
 *
 * Fields are empty until the host's enrichment has learned them (and always
 * for events outside containers, whose ref is 0); `id` is known as soon as
 * the host has seen the container. The text is copied into the view arena:
 * like every SDK view it is valid until the handler returns, and the steady
 * state allocates nothing. Only signatures that read these fields import
 * container_get (AssemblyScript drops unused imports).
 *
 *   Container (4 bytes, @unmanaged): | ref: u32 |
 */
import { Event } from "./event";
import { Bytes } from "./bytes";
import { allocView } from "./views";
import { hostContainerGet } from "./imports";

/** Field numbers of tracee.container_get (docs/abi/bundle.md). */
export namespace ContainerField {
  // @ts-ignore: decorator
  @inline export const Id: u32 = 0;
  // @ts-ignore: decorator
  @inline export const Name: u32 = 1;
  // @ts-ignore: decorator
  @inline export const Image: u32 = 2;
  // @ts-ignore: decorator
  @inline export const ImageDigest: u32 = 3;
  // @ts-ignore: decorator
  @inline export const PodName: u32 = 4;
  // @ts-ignore: decorator
  @inline export const PodNamespace: u32 = 5;
  // @ts-ignore: decorator
  @inline export const PodUID: u32 = 6;
  /** One byte: 1 if the container is a pod's sandbox, else 0. */
  // @ts-ignore: decorator
  @inline export const PodSandbox: u32 = 7;
}

// @ts-ignore: decorator
@inline const FIRST_TRY: u32 = 96;

@final @unmanaged
export class Container {
  private _ref!: u32;

  static of(ref: u32): Container {
    let c = changetype<Container>(allocView(offsetof<Container>()));
    c._ref = ref;
    return c;
  }

  /** The event's containerRef (0: not in a container). */
  get ref(): u32 { return this._ref; }
  /** The host has an entry for this container (its id at least). */
  get known(): bool { return this._ref != 0 && hostContainerGet(this._ref, ContainerField.Id, 0, 0) >= 0; }
  get id(): Bytes { return this.field(ContainerField.Id); }
  get name(): Bytes { return this.field(ContainerField.Name); }
  get image(): Bytes { return this.field(ContainerField.Image); }
  get imageDigest(): Bytes { return this.field(ContainerField.ImageDigest); }
  get podName(): Bytes { return this.field(ContainerField.PodName); }
  get podNamespace(): Bytes { return this.field(ContainerField.PodNamespace); }
  get podUID(): Bytes { return this.field(ContainerField.PodUID); }
  get podSandbox(): bool { return this.field(ContainerField.PodSandbox).byteAt(0) == 1; }

  /** A field's value, empty when unknown. */
  field(f: u32): Bytes {
    if (this._ref == 0) return Bytes.empty();
    let out = allocView(FIRST_TRY);
    let n = hostContainerGet(this._ref, f, out, FIRST_TRY);
    if (n < 0) return Bytes.empty();
    if (<u32>n > FIRST_TRY) {
      let cap = <u32>n;
      out = allocView(<usize>cap);
      n = hostContainerGet(this._ref, f, out, cap);
      if (n < 0 || <u32>n > cap) return Bytes.empty();
    }
    return Bytes.wrap(out, <u32>n);
  }
}

/** The container of event `e` (see above). */
export function container(e: Event): Container {
  return Container.of(e.containerRef);
}
