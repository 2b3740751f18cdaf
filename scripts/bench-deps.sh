#!/bin/sh
# What `make bench` needs besides Python packages: wrk (a C load generator
# from Debian) for the page-speed measures at 32 connections.
set -eu
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing wrk (benchmarks)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "The speed benchmarks need wrk: sudo apt-get install wrk" >&2
    exit 1
  fi
fi
