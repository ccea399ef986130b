"""A throwaway OpenStack Swift (s3api + tempurl) for end-to-end tests: tests/env/swift.sh."""

import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "env", "swift.sh")


class SwiftEnv:
    """with SwiftEnv() as sw: sw.url, sw.access_key, sw.secret_key, sw.region, sw.account_url,
    sw.auth_token, sw.bucket, sw.tempurl_key. Stops exactly the processes it started."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="loci-swift.")
        try:
            p = subprocess.run([SCRIPT, "start", self.dir], capture_output=True, text=True, timeout=180)
        except BaseException:
            self.__exit__()
            raise
        if p.returncode != 0:
            self.__exit__()
            raise RuntimeError("swift did not start: " + p.stderr[-3000:])
        env = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
        self.url = env["SWIFT_URL"]
        self.access_key = env["SWIFT_S3_ACCESS_KEY"]
        self.secret_key = env["SWIFT_S3_SECRET_KEY"]
        self.region = env["SWIFT_S3_REGION"]
        self.account_url = env["SWIFT_ACCOUNT_URL"]
        self.auth_token = env["SWIFT_AUTH_TOKEN"]
        self.bucket = env["SWIFT_BUCKET"]
        self.tempurl_key = env["SWIFT_TEMPURL_KEY"]
        return self

    def __exit__(self, *exc):
        subprocess.run([SCRIPT, "stop", self.dir], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def list_names(self):
        """The object names in the test container, through Swift's own API."""
        req = urllib.request.Request("%s/%s?format=json" % (self.account_url, self.bucket),
                                     headers={"X-Auth-Token": self.auth_token})
        return [o["name"] for o in json.loads(urllib.request.urlopen(req, timeout=10).read() or b"[]")]
