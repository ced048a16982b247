// Object, array, json.* path and graph builtins.

import { T_STRING, T_NUMBER, numInt, numIsI64, intOut, numToF64 } from "../number";
import {
  compare, get, nullV, strV, strPtr, strLen, arrNew, arrAppend, arrLen, arrGet, objNew, objInsert, objGet, objFind,
  objLen, objKey, objVal, setNew, setAdd, setLen, setGet, setFind,
} from "../value";
import { isArr, isSet, isObj, isStr, asInt, argInt } from "./util";

export function b_array__concat(a: usize, b: usize): usize {
  if (!isArr(a) || !isArr(b)) return 0;
  let n = arrLen(a), m = arrLen(b);
  let r = arrNew(n + m);
  for (let i: usize = 0; i < n; i++) arrAppend(r, arrGet(a, i));
  for (let i: usize = 0; i < m; i++) arrAppend(r, arrGet(b, i));
  return r;
}

export function b_array__slice(a: usize, start: usize, stop: usize): usize {
  if (!isArr(a) || !asInt(start)) return 0;
  let s = argInt;
  if (!asInt(stop)) return 0;
  let e = argInt;
  let n = <i64>arrLen(a);
  if (s < 0) s = 0;
  if (e > n) e = n;
  let r = arrNew(0);
  for (let i = s; i < e; i++) arrAppend(r, arrGet(a, <usize>i));
  return r;
}

/** Keys given as an array, set or object (its keys). Calls back via a set. */
function keySet(keys: usize): usize {
  let s = setNew();
  if (isArr(keys)) { let n = arrLen(keys); for (let i: usize = 0; i < n; i++) setAdd(s, arrGet(keys, i)); return s; }
  if (isSet(keys)) return keys;
  if (isObj(keys)) { let n = objLen(keys); for (let i: usize = 0; i < n; i++) setAdd(s, objKey(keys, i)); return s; }
  return 0;
}

export function b_object__get(o: usize, key: usize, dflt: usize): usize {
  if (!isObj(o)) return 0;
  if (isArr(key)) {
    let cur = o;
    let n = arrLen(key);
    for (let i: usize = 0; i < n; i++) {
      cur = get(cur, arrGet(key, i));
      if (cur == 0) return dflt;
    }
    return cur;
  }
  let v = objGet(o, key);
  return v ? v : dflt;
}

export function b_object__remove(o: usize, keys: usize): usize {
  if (!isObj(o)) return 0;
  let ks = keySet(keys);
  if (!ks) return 0;
  let r = objNew();
  let n = objLen(o);
  for (let i: usize = 0; i < n; i++) if (setFind(ks, objKey(o, i)) < 0) objInsert(r, objKey(o, i), objVal(o, i));
  return r;
}

export function b_object__filter(o: usize, keys: usize): usize {
  if (!isObj(o)) return 0;
  let ks = keySet(keys);
  if (!ks) return 0;
  let r = objNew();
  let n = objLen(o);
  for (let i: usize = 0; i < n; i++) if (setFind(ks, objKey(o, i)) >= 0) objInsert(r, objKey(o, i), objVal(o, i));
  return r;
}

function unionRec(a: usize, b: usize): usize {
  if (!isObj(a) || !isObj(b)) return b;
  let r = objNew();
  let n = objLen(a);
  for (let i: usize = 0; i < n; i++) {
    let k = objKey(a, i);
    let bv = objGet(b, k);
    objInsert(r, k, bv ? unionRec(objVal(a, i), bv) : objVal(a, i));
  }
  let m = objLen(b);
  for (let i: usize = 0; i < m; i++) if (objFind(a, objKey(b, i)) < 0) objInsert(r, objKey(b, i), objVal(b, i));
  return r;
}

export function b_object__union(a: usize, b: usize): usize {
  if (!isObj(a) || !isObj(b)) return 0;
  return unionRec(a, b);
}

// ---- json.filter / json.remove ----
//
// Paths ("a/b/c" strings or arrays of segments) become a tree of objects;
// a null subtree marks the end of a path.

function addPath(tree: usize, path: usize): bool {
  let segs: usize;
  if (isStr(path)) {
    segs = arrNew(4);
    let p = strPtr(path), n = strLen(path);
    let s: usize = 0;
    while (s < n && load<u8>(p + s) == 0x2f) s++;
    if (s < n) {
      let start = s;
      for (let i = s; i <= n; i++) {
        if (i == n || load<u8>(p + i) == 0x2f) { arrAppend(segs, strV(p + start, i - start)); start = i + 1; }
      }
    }
  } else if (isArr(path)) segs = path;
  else return false;
  let n = arrLen(segs);
  let cur = tree;
  for (let i: usize = 0; i < n; i++) {
    let k = arrGet(segs, i);
    let sub = objGet(cur, k);
    if (i + 1 == n) { objInsert(cur, k, nullV()); return true; }
    if (sub != 0 && !isObj(sub)) return true; // a shorter path already covers it
    if (sub == 0) { sub = objNew(); objInsert(cur, k, sub); }
    cur = sub;
  }
  return true;
}

function pathTree(paths: usize): usize {
  let tree = objNew();
  let n: usize;
  if (isArr(paths)) { n = arrLen(paths); for (let i: usize = 0; i < n; i++) if (!addPath(tree, arrGet(paths, i))) return 0; }
  else if (isSet(paths)) { n = setLen(paths); for (let i: usize = 0; i < n; i++) if (!addPath(tree, setGet(paths, i))) return 0; }
  else return 0;
  return tree;
}

/** Looks up a tree node for a document key (string segments match array indices by text). */
function treeGet(tree: usize, key: usize): usize {
  let v = objGet(tree, key);
  if (v) return v;
  if (load<u8>(key) == T_NUMBER && numIsI64(key)) {
    // find a string segment equal to the decimal index
    let n = objLen(tree);
    for (let i: usize = 0; i < n; i++) {
      let k = objKey(tree, i);
      if (!isStr(k)) continue;
      let p = strPtr(k), m = strLen(k);
      if (m == 0 || m > 18) continue;
      let acc: i64 = 0;
      let ok = true;
      for (let j: usize = 0; j < m; j++) {
        let c = load<u8>(p + j);
        if (c < 0x30 || c > 0x39) { ok = false; break; }
        acc = acc * 10 + <i64>(c - 0x30);
      }
      if (ok && acc == intOut) return objVal(tree, i);
    }
  }
  return 0;
}

@inline function isLeaf(t: usize): bool { return load<u8>(t) != 6; }

/**
 * json.filter (keep = true) and json.remove (keep = false) over a path tree:
 * a child the tree does not name is dropped by filter and kept by remove; a
 * child at a path's end is kept by filter and dropped by remove; one inside
 * a path is walked on.
 */
function prune(v: usize, tree: usize, keep: bool): usize {
  if (isObj(v)) {
    let r = objNew();
    let n = objLen(v);
    for (let i: usize = 0; i < n; i++) {
      let c = pruneChild(objVal(v, i), treeGet(tree, objKey(v, i)), keep);
      if (c) objInsert(r, objKey(v, i), c);
    }
    return r;
  }
  if (isArr(v)) {
    let r = arrNew(0);
    let n = arrLen(v);
    for (let i: usize = 0; i < n; i++) {
      let c = pruneChild(arrGet(v, i), treeGet(tree, numInt(<i64>i)), keep);
      if (c) arrAppend(r, c);
    }
    return r;
  }
  if (isSet(v)) {
    let r = setNew();
    let n = setLen(v);
    for (let i: usize = 0; i < n; i++) {
      let c = pruneChild(setGet(v, i), treeGet(tree, setGet(v, i)), keep);
      if (c) setAdd(r, c);
    }
    return r;
  }
  return v;
}

/** A child under path tree node `t` (0: not in the tree), or 0 when pruned. */
function pruneChild(c: usize, t: usize, keep: bool): usize {
  if (!t) return keep ? 0 : c;
  if (isLeaf(t)) return keep ? c : 0;
  return prune(c, t, keep);
}

export function b_json__filter(o: usize, paths: usize): usize {
  if (!isObj(o)) return 0;
  let t = pathTree(paths);
  return t ? prune(o, t, true) : 0;
}

export function b_json__remove(o: usize, paths: usize): usize {
  if (!isObj(o)) return 0;
  let t = pathTree(paths);
  return t ? prune(o, t, false) : 0;
}

// ---- walk ----

function walkRec(out: usize, path: usize, v: usize): void {
  let pair = arrNew(2);
  arrAppend(pair, path);
  arrAppend(pair, v);
  arrAppend(out, pair);
  let n: usize;
  if (isObj(v)) {
    n = objLen(v);
    for (let i: usize = 0; i < n; i++) walkRec(out, extend(path, objKey(v, i)), objVal(v, i));
  } else if (isArr(v)) {
    n = arrLen(v);
    for (let i: usize = 0; i < n; i++) walkRec(out, extend(path, numInt(<i64>i)), arrGet(v, i));
  } else if (isSet(v)) {
    n = setLen(v);
    for (let i: usize = 0; i < n; i++) walkRec(out, extend(path, setGet(v, i)), setGet(v, i));
  }
}

function extend(path: usize, k: usize): usize {
  let n = arrLen(path);
  let r = arrNew(n + 1);
  for (let i: usize = 0; i < n; i++) arrAppend(r, arrGet(path, i));
  arrAppend(r, k);
  return r;
}

export function b_walk(v: usize): usize {
  let out = arrNew(8);
  walkRec(out, arrNew(0), v);
  return out;
}

// ---- graph.reachable ----

export function b_graph__reachable(g: usize, initial: usize): usize {
  if (!isObj(g)) return 0;
  let queue = arrNew(8);
  if (isArr(initial)) { let n = arrLen(initial); for (let i: usize = 0; i < n; i++) arrAppend(queue, arrGet(initial, i)); }
  else if (isSet(initial)) { let n = setLen(initial); for (let i: usize = 0; i < n; i++) arrAppend(queue, setGet(initial, i)); }
  else return 0;
  let seen = setNew();
  for (let qi: usize = 0; qi < arrLen(queue); qi++) {
    let node = arrGet(queue, qi);
    if (setFind(seen, node) >= 0) continue;
    let edges = objGet(g, node);
    if (!edges) continue;
    setAdd(seen, node);
    if (isArr(edges)) { let n = arrLen(edges); for (let i: usize = 0; i < n; i++) arrAppend(queue, arrGet(edges, i)); }
    else if (isSet(edges)) { let n = setLen(edges); for (let i: usize = 0; i < n; i++) arrAppend(queue, setGet(edges, i)); }
  }
  return seen;
}
