import forge from 'node-forge';

/** PEM texts of a certificate authority made for one test run, and of certificates it signed. */
export interface ThrowawayCa {
  caCert: string;
  /** A server certificate for the given names (IP addresses or DNS names), with its private key. */
  issue(names: string[], opts?: { expired?: boolean }): { cert: string; key: string };
}

const IP = /^\d{1,3}(\.\d{1,3}){3}$/;

function serial(): string {
  return forge.util.bytesToHex(forge.random.getBytesSync(16)).replace(/^[89a-f]/, '1');
}

/**
 * A fresh CA and the certificates it issues, generated at test time (RSA
 * 2048, SHA-256): nothing secret or long-lived sits in the repository.
 */
export function throwawayCa(): ThrowawayCa {
  const caKeys = forge.pki.rsa.generateKeyPair(2048);
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = new Date(Date.now() - 60_000);
  ca.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const caName = [{ name: 'commonName', value: 'Corral test CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  return {
    caCert: forge.pki.certificateToPem(ca),
    issue(names, opts = {}) {
      const keys = forge.pki.rsa.generateKeyPair(2048);
      const cert = forge.pki.createCertificate();
      cert.publicKey = keys.publicKey;
      cert.serialNumber = serial();
      const start = opts.expired ? Date.now() - 48 * 3600_000 : Date.now() - 60_000;
      cert.validity.notBefore = new Date(start);
      cert.validity.notAfter = new Date(start + 24 * 3600_000);
      cert.setSubject([{ name: 'commonName', value: names[0]! }]);
      cert.setIssuer(caName);
      cert.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: names.map((n) => (IP.test(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
      ]);
      cert.sign(caKeys.privateKey, forge.md.sha256.create());
      return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
    },
  };
}
