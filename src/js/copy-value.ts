/** Copies values across the sandbox boundary (used by sandbox.ts and realm-kit.ts). */
export interface Copier {
  /** A deep copy made with the constructors of the realm this copier runs in; functions become undefined. */
  copy(value: unknown, memo: Map<object, unknown>): unknown;
  /**
   * A view of a foreign object whose entries are copied on first read (big scopes such as
   * `$nodes`); entries named in `nested` become views of their own.
   */
  lazy(source: object, memo: Map<object, unknown>, nested?: Readonly<Record<string, true>>): object;
}

/**
 * Make a copier for the realm this function runs in. The function is self-contained (no imports,
 * no outer names; evaluated as strict code): the sandbox evaluates its source inside the vm context to copy host
 * values in, and the host calls it directly to copy results out. Every object of a copy is made
 * anew by this realm's own constructors, so nothing reachable from a copy (`.constructor`,
 * `__proto__`, a method) belongs to the other realm.
 *
 * Semantics follow `structuredClone`: own enumerable string keys (getters are read), arrays
 * (holes become undefined), Date, RegExp, Map, Set, Error, ArrayBuffer and typed arrays (a Buffer
 * becomes a Uint8Array); other objects become plain objects; functions and symbols are dropped.
 * Cycles and shared references are kept. A copy that fails throws a TypeError of this realm.
 *
 * @param foreignObjectPrototype `Object.prototype` of the other realm: a name found there
 *   (`constructor`, `toString`…) is not a scope entry of a lazy view.
 */
export function createCopier(foreignObjectPrototype: object | null): Copier {
  const ObjectCtor = Object;
  const { getPrototypeOf, defineProperty, keys, create } = ObjectCtor;
  const hasOwn = ObjectCtor.hasOwn;
  const { apply, ownKeys, getOwnPropertyDescriptor: reflectDescriptor, deleteProperty, defineProperty: reflectDefine, set: reflectSet } = Reflect;
  const isArray = Array.isArray;
  const ArrayCtor = Array;
  const MapCtor = Map;
  const SetCtor = Set;
  const DateCtor = Date;
  const RegExpCtor = RegExp;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;
  const ProxyCtor = Proxy;
  const ArrayBufferCtor = ArrayBuffer;
  const DataViewCtor = DataView;
  const isView = ArrayBuffer.isView;
  const Uint8ArrayCtor = Uint8Array;
  const ownObjectPrototype = ObjectCtor.prototype;
  const stringSplit = String.prototype.split;
  const arrayJoin = ArrayCtor.prototype.join;
  const regExpTest = RegExpCtor.prototype.test;
  const FRAME = /^\s+at /;
  const CODE_FRAME = /atomiton:(?:async-)?code:/;
  // An error's stack without the runner's own frames (`node:vm`, the CLI bundle's paths): its header
  // and the frames of the code body. Only those say anything to the node's author.
  const bodyStack = (stack: string): string => {
    const lines = apply(stringSplit, stack, ["\n"]) as string[];
    const kept: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!apply(regExpTest, FRAME, [line]) || apply(regExpTest, CODE_FRAME, [line])) kept[kept.length] = line;
    }
    return apply(arrayJoin, kept, ["\n"]) as string;
  };
  const objectToString = ObjectCtor.prototype.toString;
  const dateGetTime = Date.prototype.getTime;
  const mapForEach = Map.prototype.forEach;
  const mapSet = Map.prototype.set;
  const setForEach = Set.prototype.forEach;
  const setAdd = Set.prototype.add;
  const typedArrays: Record<string, new (source: unknown) => unknown> = {
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  };
  const MISSING = {};

  function define(target: object, key: string, value: unknown): void {
    defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  }

  function copyInner(value: unknown, memo: Map<object, unknown>): unknown {
    if (typeof value !== "object" || value === null) return typeof value === "function" || typeof value === "symbol" ? undefined : value;
    const seen = memo.get(value);
    if (seen !== undefined) return seen;
    if (isArray(value)) {
      const length = (value as unknown[]).length;
      const out = new ArrayCtor(length);
      memo.set(value, out);
      for (let i = 0; i < length; i++) out[i] = copyInner((value as unknown[])[i], memo);
      return out;
    }
    const proto = getPrototypeOf(value);
    if (proto !== null && proto !== foreignObjectPrototype && proto !== ownObjectPrototype) {
      const special = copySpecial(value, memo);
      if (special !== MISSING) return special;
    }
    const out: Record<string, unknown> = {};
    memo.set(value, out);
    const names = keys(value);
    for (let i = 0; i < names.length; i++) {
      const key = names[i]!;
      const v = copyInner((value as Record<string, unknown>)[key], memo);
      // `out[key] = v` would set the prototype for "__proto__" and hit frozen Object.prototype names.
      if (key in ownObjectPrototype) define(out, key, v);
      else out[key] = v;
    }
    return out;
  }

  function copySpecial(value: object, memo: Map<object, unknown>): unknown {
    const tag = apply(objectToString, value, []) as string;
    let out: unknown;
    switch (tag) {
      case "[object Date]":
        out = new DateCtor(apply(dateGetTime, value, []) as number);
        break;
      case "[object RegExp]":
        out = new RegExpCtor(String((value as RegExp).source), String((value as RegExp).flags));
        break;
      case "[object Map]": {
        const map = new MapCtor();
        memo.set(value, map);
        apply(mapForEach, value, [(v: unknown, k: unknown) => apply(mapSet, map, [copyInner(k, memo), copyInner(v, memo)])]);
        return map;
      }
      case "[object Set]": {
        const set = new SetCtor();
        memo.set(value, set);
        apply(setForEach, value, [(v: unknown) => apply(setAdd, set, [copyInner(v, memo)])]);
        return set;
      }
      case "[object Error]": {
        const e = value as { message?: unknown; name?: unknown; stack?: unknown; code?: unknown };
        const error = new ErrorCtor(typeof e.message === "string" ? e.message : "");
        memo.set(value, error);
        if (typeof e.name === "string") define(error, "name", e.name);
        if (typeof e.stack === "string") define(error, "stack", bodyStack(e.stack));
        if (typeof e.code === "string") define(error, "code", e.code);
        return error;
      }
      case "[object ArrayBuffer]": {
        const buffer = new ArrayBufferCtor((value as ArrayBuffer).byteLength);
        new Uint8ArrayCtor(buffer).set(new Uint8ArrayCtor(value as ArrayBuffer));
        out = buffer;
        break;
      }
      default: {
        if (!isView(value)) return MISSING;
        if (tag === "[object DataView]") {
          const view = value as DataView;
          const bytes = new Uint8ArrayCtor(view.byteLength);
          bytes.set(new Uint8ArrayCtor(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength));
          out = new DataViewCtor(bytes.buffer);
          break;
        }
        const Ctor = typedArrays[tag.slice(8, -1)];
        if (Ctor === undefined) return MISSING;
        out = new Ctor(value);
      }
    }
    memo.set(value, out);
    return out;
  }

  function describe(error: unknown): string {
    try {
      const message = typeof error === "object" && error !== null ? (error as { message?: unknown }).message : error;
      return typeof message === "string" ? message : typeof message;
    } catch {
      return "unreadable error";
    }
  }

  function copy(value: unknown, memo: Map<object, unknown>): unknown {
    if (typeof value !== "object" || value === null) return typeof value === "function" || typeof value === "symbol" ? undefined : value;
    try {
      return copyInner(value, memo);
    } catch (error) {
      // Whatever was thrown (maybe by the other realm) stays here; only its text crosses.
      throw new TypeErrorCtor(`cannot copy a value across the sandbox boundary: ${describe(error)}`);
    }
  }

  /** The value of `key` in `source` or its prototypes, except the other realm's Object.prototype. */
  function lookup(source: object, key: string): unknown {
    try {
      for (let o: object | null = source; o !== null && o !== foreignObjectPrototype; o = getPrototypeOf(o)) {
        if (hasOwn(o, key)) return (source as Record<string, unknown>)[key];
      }
    } catch (error) {
      throw new TypeErrorCtor(`cannot read "${key}": ${describe(error)}`);
    }
    return MISSING;
  }

  function lazy(source: object, memo: Map<object, unknown>, nested?: Readonly<Record<string, true>>): object {
    const target = create(null) as Record<string, unknown>;
    const dropped = create(null) as Record<string, true>;
    const materialize = (key: string | symbol): void => {
      if (typeof key !== "string" || hasOwn(target, key) || dropped[key] === true) return;
      const found = lookup(source, key);
      if (found === MISSING) return;
      define(target, key, nested !== undefined && hasOwn(nested, key) && typeof found === "object" && found !== null ? lazy(found, memo) : copy(found, memo));
    };
    return new ProxyCtor(target, {
      get(t, key) {
        materialize(key);
        return t[key as string];
      },
      has(t, key) {
        materialize(key);
        return key in t;
      },
      set(t, key, value) {
        materialize(key);
        return reflectSet(t, key, value);
      },
      deleteProperty(t, key) {
        materialize(key);
        if (typeof key === "string") dropped[key] = true;
        return deleteProperty(t, key);
      },
      defineProperty(t, key, descriptor) {
        materialize(key);
        return reflectDefine(t, key, descriptor);
      },
      getOwnPropertyDescriptor(t, key) {
        materialize(key);
        return reflectDescriptor(t, key);
      },
      ownKeys(t) {
        try {
          // Inherited entries count: `$nodes` of a body inherits those of its outer graph.
          for (const key in source) materialize(key);
        } catch (error) {
          throw new TypeErrorCtor(`cannot list entries: ${describe(error)}`);
        }
        return ownKeys(t);
      },
    });
  }

  return { copy, lazy };
}
