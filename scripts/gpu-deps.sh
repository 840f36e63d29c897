#!/usr/bin/env bash
# Downloads, on a Debian 12 machine with apt, the packages that scripts/gpu-check.sh needs on a GPU
# machine that has CUDA, a C++ compiler, CMake and ninja but no package registry: the build's
# libraries (Open MPI, parallel HDF5, oneDNN, ...) and the shared libraries they load. They land in
# .gpu-deps/ (git-ignored), which travels with the work tree; gpu-check.sh unpacks them into a
# prefix of its own (never into /).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # headers and link-time files of the build
  libopenmpi-dev openmpi-common libhdf5-openmpi-dev nlohmann-json3-dev libcli11-dev
  libtomlplusplus-dev libfmt-dev libpcre2-dev libssl-dev libdnnl-dev libgtest-dev libgmock-dev
  libbenchmark-dev zlib1g-dev libaec-dev pkgconf pkgconf-bin libpkgconf3
  # shared libraries of those
  libopenmpi3 libhdf5-openmpi-103-1 libfmt9 libtomlplusplus3 libdnnl2 libbenchmark1debian libssl3
  libpcre2-8-0 libsz2 libaec0 libevent-core-2.1-7 libevent-pthreads-2.1-7 libhwloc15 libpmix2
  libfabric1 libucx0 libibverbs1 librdmacm1 libnl-3-200 libnl-route-3-200 libpsm2-2
  libpsm-infinipath1 libnuma1 libmunge2 libltdl7 libpciaccess0 libudev1 libxnvctrl0 libx11-6
  libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libgfortran5 libcurl4 libnghttp2-14 librtmp1
  libssh2-1 libpsl5 libbrotli1 libldap-2.5-0 libsasl2-2 libgssapi-krb5-2 libkrb5-3 libk5crypto3
  libkrb5support0 libkeyutils1 libcom-err2 libgnutls30 libhogweed6 libnettle8 libidn2-0
  libunistring2 libtasn1-6 libp11-kit0 libffi8 libzstd1 libjpeg62-turbo ocl-icd-libopencl1
  ibverbs-providers
)

rm -rf .gpu-deps
mkdir -p .gpu-deps
(cd .gpu-deps && apt-get download -qq "${packages[@]}")
echo "gpu-deps: $(ls .gpu-deps | wc -l) packages, $(du -sh .gpu-deps | cut -f1) in .gpu-deps/"
