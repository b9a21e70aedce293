/**
 * Freeze the built-ins of the realm this function runs in, once, before any user code: what one
 * node's code does to `Object.prototype`, `Array.prototype.push` or `Error` can then not reach the
 * next node that runs in the same vm context (SES's `lockdown()` is the model). The global
 * object's own names become read-only; names user code adds to it are swept by the sandbox.
 *
 * A frozen prototype would make `obj.toString = f` fail for every object (the "override
 * mistake"), so the few names code commonly assigns on its own objects (`toString`, `valueOf`,
 * `constructor`, an error's `name` and `message`…) become accessors whose setter defines the
 * property on the object itself. Array and Promise prototypes keep data properties: turning their
 * methods into accessors would slow every array loop and `await`.
 *
 * Self-contained (no imports, no outer names): the sandbox evaluates its source in the realm.
 */
export function lockdown(): void {
  const G = globalThis;
  const { freeze, getPrototypeOf, defineProperty, getOwnPropertyDescriptor, hasOwn } = Object;
  const { ownKeys } = Reflect;
  const TypeErrorCtor = TypeError;

  // A console that prints nothing (vm's own writes to the inspector), defined here so it is frozen too.
  const quiet = (): undefined => undefined;
  defineProperty(G, "console", { value: { log: quiet, info: quiet, warn: quiet, error: quiet, debug: quiet, trace: quiet, dir: quiet, table: quiet }, writable: true, configurable: true, enumerable: false });

  const overridable = (obj: object, key: string): void => {
    const desc = getOwnPropertyDescriptor(obj, key);
    if (desc === undefined || !("value" in desc) || desc.writable !== true || desc.configurable !== true) return;
    const value: unknown = desc.value;
    defineProperty(obj, key, {
      get(): unknown {
        return value;
      },
      set(this: unknown, next: unknown): void {
        if (this === obj) throw new TypeErrorCtor(`Cannot assign to read only property '${key}' of a frozen built-in`);
        if (typeof this !== "object" || this === null) return;
        if (hasOwn(this, key)) (this as Record<string, unknown>)[key] = next;
        else defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
      },
      enumerable: desc.enumerable === true,
      configurable: false,
    });
  };
  for (const key of ["constructor", "toString", "toLocaleString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"]) overridable(Object.prototype, key);
  overridable(Function.prototype, "toString");
  overridable(Array.prototype, "toString");
  for (const E of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError]) {
    for (const key of ["constructor", "name", "message", "toString"]) overridable(E.prototype, key);
  }

  const roots: unknown[] = [
    G,
    getPrototypeOf(function* () {}),
    getPrototypeOf(async function () {}),
    getPrototypeOf(async function* () {}),
    getPrototypeOf([][Symbol.iterator]()),
    getPrototypeOf(new Map().entries()),
    getPrototypeOf(new Set().values()),
    getPrototypeOf(""[Symbol.iterator]()),
    getPrototypeOf(/a/[Symbol.matchAll]("")),
  ];
  const seen = new Set<unknown>();
  while (roots.length > 0) {
    const o = roots.pop();
    if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
    seen.add(o);
    for (const key of ownKeys(o)) {
      const desc = getOwnPropertyDescriptor(o, key)!;
      if ("value" in desc) roots.push(desc.value);
      else roots.push(desc.get, desc.set);
      if (o === G && desc.configurable === true) {
        // The global object cannot be frozen in a vm context; each of its names can be made read-only.
        defineProperty(G, key, "value" in desc ? { value: desc.value, writable: false, enumerable: desc.enumerable === true, configurable: false } : { ...desc, configurable: false });
      }
    }
    roots.push(getPrototypeOf(o));
    if (o !== G) freeze(o);
  }
}
