# The `lhcgold-sim` image: the lhcgold image plus MadGraph5_aMC@NLO, Pythia 8 (C++ with HepMC and
# LHAPDF, for MG5's shower interface), Delphes 3 and LHAPDF 6, each at a pinned version (build args).
# UNTESTED: MG5_aMC, Delphes, LHAPDF and the Pythia tarballs cannot be downloaded where this project
# is built and tested, so this file has never been built; the `lhcgold` image it starts from has.
#
#   docker build -f docker/Dockerfile -t lhcgold:latest .
#   docker build -f docker/sim.Dockerfile -t lhcgold-sim:latest --build-arg BASE_IMAGE=lhcgold:latest .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" lhcgold-sim:latest mg5_aMC --help
ARG BASE_IMAGE=lhcgold:latest
FROM ${BASE_IMAGE}

ARG MG5_VERSION=3.5.7
ARG MG5_URL=https://launchpad.net/mg5amcnlo/3.0/3.5.x/+download/MG5_aMC_v${MG5_VERSION}.tar.gz
ARG PYTHIA_VERSION=8317
ARG PYTHIA_URL=https://pythia.org/download/pythia83/pythia${PYTHIA_VERSION}.tgz
ARG HEPMC_VERSION=2.06.11
ARG HEPMC_URL=https://hepmc.web.cern.ch/hepmc/releases/HepMC-${HEPMC_VERSION}.tar.gz
ARG LHAPDF_VERSION=6.5.4
ARG LHAPDF_URL=https://lhapdf.hepforge.org/downloads/?f=LHAPDF-${LHAPDF_VERSION}.tar.gz
ARG LHAPDF_SETS="NNPDF23_lo_as_0130_qed"
ARG ROOT_DEBS="root-system"
ARG DELPHES_VERSION=3.5.0
ARG DELPHES_URL=https://github.com/delphes/delphes/archive/refs/tags/${DELPHES_VERSION}.tar.gz
ARG JOBS=4

USER root
# compilers, ROOT (Delphes needs it) and MG5's Python/Fortran needs
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        build-essential gfortran cmake wget rsync bc python3-dev zlib1g-dev libboost-iostreams-dev \
        tcl ${ROOT_DEBS} \
    && rm -rf /var/lib/apt/lists/*
ENV SIM=/opt/sim
WORKDIR /tmp/build

RUN wget -q -O hepmc.tgz "${HEPMC_URL}" && tar xzf hepmc.tgz && cd HepMC-${HEPMC_VERSION} \
    && ./configure --prefix=${SIM} --with-momentum=GEV --with-length=MM && make -j${JOBS} && make install \
    && cd /tmp/build && rm -rf HepMC-* hepmc.tgz
RUN wget -q -O lhapdf.tgz "${LHAPDF_URL}" && tar xzf lhapdf.tgz && cd LHAPDF-${LHAPDF_VERSION} \
    && ./configure --prefix=${SIM} --disable-python && make -j${JOBS} && make install \
    && for set in ${LHAPDF_SETS}; do ${SIM}/bin/lhapdf install "$set"; done \
    && cd /tmp/build && rm -rf LHAPDF-* lhapdf.tgz
RUN wget -q -O pythia.tgz "${PYTHIA_URL}" && tar xzf pythia.tgz && cd pythia${PYTHIA_VERSION} \
    && ./configure --prefix=${SIM} --with-hepmc2=${SIM} --with-lhapdf6=${SIM} --with-gzip \
    && make -j${JOBS} && make install && cd /tmp/build && rm -rf pythia* 
RUN wget -q -O delphes.tgz "${DELPHES_URL}" && tar xzf delphes.tgz && cd delphes-${DELPHES_VERSION} \
    && ./configure && make -j${JOBS} && mkdir -p ${SIM}/delphes && cp -a . ${SIM}/delphes \
    && cd /tmp/build && rm -rf delphes-* delphes.tgz
RUN wget -q -O mg5.tgz "${MG5_URL}" && mkdir -p ${SIM}/MG5_aMC && tar xzf mg5.tgz -C ${SIM}/MG5_aMC --strip-components=1 \
    && rm mg5.tgz && pip install six \
    && printf 'set auto_update 0\nset automatic_html_opening False\nset pythia8_path %s\nset lhapdf_py3 %s/bin/lhapdf-config\nset delphes_path %s/delphes\nset hepmc_path %s\nsave options\n' \
        "${SIM}" "${SIM}" "${SIM}" "${SIM}" > /tmp/mg5.cmd \
    && ${SIM}/MG5_aMC/bin/mg5_aMC /tmp/mg5.cmd && rm /tmp/mg5.cmd \
    && chmod -R a+rwX ${SIM}/MG5_aMC

ENV MG5_HOME=${SIM}/MG5_aMC DELPHES_HOME=${SIM}/delphes PYTHIA8=${SIM} LHAPDF_DATA_PATH=${SIM}/share/LHAPDF \
    PATH=${SIM}/MG5_aMC/bin:${SIM}/delphes:${SIM}/bin:$PATH LD_LIBRARY_PATH=${SIM}/lib:${SIM}/delphes
WORKDIR /work
USER lhcgold
CMD ["lhcgold", "--help"]
