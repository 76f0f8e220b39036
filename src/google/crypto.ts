import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

const ALG = "aes-256-gcm";
const VERSION = "v1";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export class KeyringError extends Error {}
export class DecryptError extends Error {}

/** Stable, non-reversible id for a key given without one: lets a keyring mix named and unnamed keys. */
export const fingerprint = (key: Buffer) =>
  `fp-${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;

function decodeKey(b64: string, where: string): Buffer {
  const s = b64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) throw new KeyringError(`${where}: not base64`);
  const key = Buffer.from(s, "base64");
  if (key.length !== 32) throw new KeyringError(`${where}: must decode to 32 bytes (got ${key.length})`);
  return key;
}

/**
 * TOKEN_ENCRYPTION_KEYS = "[id:]base64,[id:]base64,…" (first encrypts, all decrypt) or a single
 * TOKEN_ENCRYPTION_KEY = base64. A key without an id is named by its fingerprint.
 */
export function parseKeyring(single: string | undefined, list: string | undefined): EncryptionKey[] {
  if (single && list) throw new KeyringError("set TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEYS, not both");
  const entries = list
    ? list
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean)
    : single
      ? [single]
      : [];
  const keys = entries.map((e, i) => {
    const at = e.indexOf(":");
    const where = `key #${i + 1}`;
    if (at < 0) {
      const key = decodeKey(e, where);
      return { id: fingerprint(key), key };
    }
    const id = e.slice(0, at);
    if (!KEY_ID.test(id)) throw new KeyringError(`${where}: id must be 1-32 characters of A-Z a-z 0-9 _ -`);
    return { id, key: decodeKey(e.slice(at + 1), where) };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new KeyringError("key ids must be unique");
  return keys;
}

/**
 * AES-256-GCM with a fresh 96-bit IV per value. The additional data binds a ciphertext to its
 * owner and purpose, so a value copied to another user's record does not decrypt.
 * Format: v1.<key id>.<iv>.<ciphertext>.<tag> (base64url parts).
 */
export class TokenCipher {
  private readonly byId: Map<string, Buffer>;
  readonly primary: EncryptionKey;

  constructor(keys: readonly EncryptionKey[]) {
    const first = keys[0];
    if (!first) throw new KeyringError("no encryption key configured");
    this.primary = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encrypt(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv(ALG, this.primary.key, iv);
    c.setAAD(Buffer.from(aad, "utf8"));
    const ct = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return [VERSION, this.primary.id, iv, ct, c.getAuthTag()]
      .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
      .join(".");
  }

  decrypt(sealed: string, aad: string): string {
    const [v, kid, iv, ct, tag, ...rest] = sealed.split(".");
    if (v !== VERSION || !kid || !iv || ct === undefined || !tag || rest.length)
      throw new DecryptError("unknown ciphertext format");
    const key = this.byId.get(kid);
    if (!key) throw new DecryptError(`encryption key "${kid}" is not configured`);
    try {
      const d = createDecipheriv(ALG, key, Buffer.from(iv, "base64url"));
      d.setAAD(Buffer.from(aad, "utf8"));
      d.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([d.update(Buffer.from(ct, "base64url")), d.final()]).toString("utf8");
    } catch {
      throw new DecryptError(`ciphertext does not authenticate under key "${kid}"`);
    }
  }

  /** Key id a sealed value was written with (rotation: re-encrypt when it is not the primary). */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(".")[1];
  }

  isCurrent(sealed: string): boolean {
    return TokenCipher.keyIdOf(sealed) === this.primary.id;
  }

  /** HMAC key for signing OAuth `state`, derived per encryption key (never the key itself). */
  macKeys(): { id: string; key: Buffer }[] {
    return [...this.byId].map(([id, key]) => ({
      id,
      key: Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "companion-memory/oauth-state", 32)),
    }));
  }
}
