#!/bin/sh
# Mounts the data volume at /var/lib/tollgate: Docker's data root (images and the volumes of
# PostgreSQL, Redis, Prometheus and Grafana), the TLS certificates and Let's Encrypt's account.
# The volume outlives the VM, so a replaced VM finds everything again. It is attached after the
# VM starts: wait for it, and format it only when it holds no filesystem yet (a new volume).
set -eu

device=/dev/oracleoci/oraclevdb
mount_point=/var/lib/tollgate
label=tollgate-data

waited=0
while [ ! -b "$device" ]; do
  if [ "$waited" -ge 600 ]; then
    echo "tollgate: $device did not appear within 600 s" >&2
    exit 1
  fi
  sleep 5
  waited=$((waited + 5))
done

if ! blkid "$device" >/dev/null 2>&1; then
  mkfs.ext4 -q -L "$label" "$device"
fi

mkdir -p "$mount_point"
if ! grep -q "^LABEL=$label " /etc/fstab; then
  echo "LABEL=$label $mount_point ext4 defaults,nofail,x-systemd.device-timeout=600 0 2" >>/etc/fstab
fi
mountpoint -q "$mount_point" || mount "$mount_point"

mkdir -p "$mount_point/docker" "$mount_point/tls" "$mount_point/letsencrypt"
chmod 0700 "$mount_point/tls" "$mount_point/letsencrypt"
# certbot keeps its account, certificates and renewal settings under /etc/letsencrypt.
if [ ! -L /etc/letsencrypt ]; then
  if [ -d /etc/letsencrypt ]; then
    cp -a /etc/letsencrypt/. "$mount_point/letsencrypt/"
    rm -rf /etc/letsencrypt
  fi
  ln -s "$mount_point/letsencrypt" /etc/letsencrypt
fi
