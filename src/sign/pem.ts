/**
 * PEM armour (RFC 7468) of DER bytes: apart from the CMS module so that reading or writing PEM
 * text does not load PKI.js, which takes long to load (issue 18, start-up).
 */
/** PEM text of DER bytes: base64 in 64-character lines; `finalNewline: false` as VMware's `sig.pkcs7`. */
export function toPem(der: Uint8Array, label: string, finalNewline = true): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----${finalNewline ? '\n' : ''}`;
}

/** The DER bytes of the first PEM block with this label (any label when none is given). */
export function fromPem(text: string, label?: string): Uint8Array | undefined {
  const re = label ? new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`) : /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/;
  const m = re.exec(text);
  if (!m) return undefined;
  return new Uint8Array(Buffer.from((label ? m[1] : m[2])!.replace(/\s+/g, ''), 'base64'));
}

/** Every certificate in a PEM text, DER. */
export function certificatesFromPem(text: string): Uint8Array[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}
