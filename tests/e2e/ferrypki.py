# SPDX-License-Identifier: LGPL-2.1-or-later
"""Throw-away x509 material for the TLS tests, made with openssl.

A CA (ca-key.pem, ca-cert.pem) and, per host, the files of DESIGN §4a
in a pki/ directory: ca-cert.pem, server-cert.pem, server-key.pem,
client-cert.pem, client-key.pem. Host certificates name 127.0.0.1 as
an IP SAN (two hosts on one machine) and carry both the server and the
client purpose, as QEMU's tls-creds-x509 checks them. EC keys: quick to
make.
"""

import os
import shutil
import subprocess
import tempfile

OPENSSL = shutil.which('openssl') or '/usr/bin/openssl'

_CA_CONF = '''[ca]
default_ca = ca_default
[ca_default]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/new
serial = {dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[policy_any]
commonName = supplied
organizationName = optional
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = {san}
'''


def _run(*args, cwd=None):
    r = subprocess.run([OPENSSL] + list(args), cwd=cwd, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError('openssl %s failed: %s' % (args[0], r.stderr))
    return r.stdout


class CA:
    """A certificate authority in its own directory under @root."""

    def __init__(self, root, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix='ca-%s-' % name, dir=root)
        os.makedirs(os.path.join(self.dir, 'new'))
        open(os.path.join(self.dir, 'index.txt'), 'w').close()
        with open(os.path.join(self.dir, 'serial'), 'w') as f:
            f.write('1000\n')
        self.key = os.path.join(self.dir, 'ca-key.pem')
        self.cert = os.path.join(self.dir, 'ca-cert.pem')
        _run('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt',
             'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', self.key,
             '-out', self.cert, '-days', '30', '-subj',
             '/O=Ferry tests/CN=%s' % name, '-addext',
             'basicConstraints=critical,CA:TRUE', '-addext',
             'keyUsage=critical,keyCertSign,cRLSign')

    def issue(self, out_cert, out_key, cn, san='IP:127.0.0.1',
              start=None, end=None):
        """A leaf certificate; start/end 'YYYYMMDDHHMMSSZ' (default: from
        a day ago for 30 days)."""
        conf = os.path.join(self.dir, 'ca.conf')
        with open(conf, 'w') as f:
            f.write(_CA_CONF.format(dir=self.dir, san=san))
        csr = out_cert + '.csr'
        _run('req', '-new', '-newkey', 'ec', '-pkeyopt',
             'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', out_key,
             '-out', csr, '-subj', '/O=Ferry tests/CN=%s' % cn)
        dates = []
        if start and end:
            dates = ['-startdate', start, '-enddate', end]
        else:
            dates = ['-days', '30']
        _run('ca', '-batch', '-config', conf, '-extensions', 'leaf',
             '-notext', '-cert', self.cert, '-keyfile', self.key, '-in', csr,
             '-out', out_cert, *dates)
        os.unlink(csr)
        os.chmod(out_key, 0o600)

    def host_pki(self, pki_dir, cn, san='IP:127.0.0.1', start=None,
                 end=None):
        """Fill pki_dir with the five files of DESIGN §4a for host cn, and
        QEMU's optional dh-params.pem."""
        os.makedirs(pki_dir, exist_ok=True)
        shutil.copy(self.cert, os.path.join(pki_dir, 'ca-cert.pem'))
        # QEMU generates Diffie-Hellman parameters when it loads server
        # credentials without them, which takes seconds: RFC 7919's
        # ffdhe2048 group instead (instant, and a vetted group)
        _run('genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt',
             'group:ffdhe2048', '-out', os.path.join(pki_dir, 'dh-params.pem'))
        for role in ('server', 'client'):
            self.issue(os.path.join(pki_dir, role + '-cert.pem'),
                       os.path.join(pki_dir, role + '-key.pem'), cn, san,
                       start, end)
        return pki_dir
