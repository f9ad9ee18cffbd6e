#!/bin/sh
# Oracle's Ubuntu images reject every inbound connection but SSH in the host's own iptables,
# beneath the VCN's security list. Accept HTTP and HTTPS too (certbot's standalone check binds port
# 80 on the host itself), and keep the rules across reboots. Runs before Docker is installed, so
# the saved rules hold none of Docker's chains.
set -eu

for port in 80 443; do
  if ! iptables -C INPUT -p tcp --dport "$port" -m conntrack --ctstate NEW -j ACCEPT 2>/dev/null; then
    iptables -I INPUT -p tcp --dport "$port" -m conntrack --ctstate NEW -j ACCEPT
  fi
done

if command -v netfilter-persistent >/dev/null 2>&1; then
  netfilter-persistent save
fi
