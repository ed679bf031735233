# Makefile: builds ./rune (CPU, OpenMP, OpenBLAS) and, with CUDA=1, the CUDA backend too.
#   make            ./rune
#   make test       unit tests (float32) + gradient checks (float64); ends with "N passed, N failed"
#   make asan       the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make CUDA=1     also compiles nn/cuda/*.cu and links cuDNN/cuBLAS from $(CUDA_HOME)
#   make MPI=1      data-parallel runs under mpirun (Open MPI: nn/mpi/dist_mpi.c); with CUDA=1 also NCCL
#   make VIDEO=0    without FFmpeg's libraries: serve-edge --source then takes frame folders only
#   make test-mpi   builds with MPI=1 (in build/mpi) and runs the mpirun tests (tests/mpi/)
#   make fixtures   regenerates tests/fixtures with Debian's python3-torch

CC        ?= gcc
BUILD     ?= build
ARCH      ?= -march=native
OPT       ?= -O3
SAN       ?=
CUDA      ?= 0
MPI       ?= 0
VIDEO     ?= 1
CUDA_HOME ?= /usr/local/cuda
PYTHON    ?= /usr/bin/python3

PKGS      := hdf5 jansson libpng libturbojpeg libzmq openblas
# FFmpeg's libraries read video files, streams and V4L2 cameras (data/video_av.c: serve-edge --source).
# VIDEO=0 leaves them out (data/video_av_none.c says so when a video is asked for), as scripts/gpu-pack.sh
# does: they bring ~180 more shared libraries (~45 MB packed), which a GPU machine's pack cannot carry.
ifeq ($(VIDEO),1)
PKGS      += libavformat libavcodec libswscale libavdevice libavutil
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(ARCH) -g -fopenmp -Wall -Wextra -Wno-unknown-pragmas \
           -I. $(PKG_CFLAGS) $(SAN) -MMD -MP
LDLIBS  := $(PKG_LIBS) -fopenmp -lm -lpthread $(SAN)

ENGINE_SRC := $(wildcard util/*.c nn/*.c nn/io/*.c nn/ops/*.c nn/models/*.c)
APP_SRC    := $(wildcard data/*.c train/*.c profile/*.c serve/*.c bench/*.c cmd/*.c)
UNIT_SRC   := tests/main.c tests/fixture.c tests/gradcheck.c tests/rune_exec.c tests/serve_harness.c tests/tmpdir.c tests/video_fixture.c $(wildcard tests/unit/*.c)
MPI_TEST_SRC := tests/main.c tests/fixture.c tests/gradcheck.c tests/tmpdir.c $(wildcard tests/mpi/*.c)
GRAD_SRC   := tests/main.c tests/fixture.c tests/gradcheck.c tests/tmpdir.c $(wildcard tests/grad/*.c)
VIDEO_OFF  := $(if $(filter 1,$(VIDEO)),data/video_av_none.c,data/video_av.c tests/video_fixture.c \
              tests/unit/test_video_source.c tests/unit/test_serve_edge_source.c)
APP_SRC    := $(filter-out $(VIDEO_OFF),$(APP_SRC))
UNIT_SRC   := $(filter-out $(VIDEO_OFF),$(UNIT_SRC))
LIB_NOCMD  := $(filter-out cmd/% bench/%,$(APP_SRC))
CMD_SRC    := $(filter cmd/%,$(APP_SRC))

ifeq ($(CUDA),1)
NVCC      := $(CUDA_HOME)/bin/nvcc
CU_SRC    := $(wildcard nn/cuda/*.cu)
CU_OBJ    := $(CU_SRC:%.cu=$(BUILD)/cu/%.o)
CFLAGS    += -DRUNE_CUDA -I$(CUDA_HOME)/include
LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudnn -lcublas -lcudart
NVFLAGS   := -O3 -std=c++17 -DRUNE_CUDA -I. -I$(CUDA_HOME)/include -MMD -MP \
             -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=sm_80 -Xcompiler -Wall,-Wextra
endif

# MPI=1: the backend of nn/dist.h on MPI replaces the single-process one (weak symbols, as for CUDA);
# with CUDA=1 too, gradients on the GPU are averaged by NCCL. Nothing else changes.
ifeq ($(MPI),1)
MPI_SRC   := nn/mpi/dist_mpi.c $(if $(filter 1,$(CUDA)),nn/mpi/nccl.c)
ENGINE_SRC += $(MPI_SRC)
CFLAGS    += $(shell pkg-config --cflags mpi-c)
LDLIBS    += $(shell pkg-config --libs mpi-c) $(if $(filter 1,$(CUDA)),-lnccl)
endif

O32 = $(1:%.c=$(BUILD)/f32/%.o)
O64 = $(1:%.c=$(BUILD)/f64/%.o)

.PHONY: all test test-mpi unit grad asan clean fixtures bench
all: rune

rune: $(BUILD)/rune
	@ln -sf $(BUILD)/rune rune

$(BUILD)/rune: $(call O32,$(ENGINE_SRC) $(APP_SRC)) $(CU_OBJ)
	$(CC) -o $@ $^ $(LDLIBS) $(if $(CU_OBJ),-lstdc++)

$(BUILD)/test_unit: $(call O32,$(ENGINE_SRC) $(LIB_NOCMD) $(UNIT_SRC)) $(CU_OBJ)
	$(CC) -o $@ $^ $(LDLIBS) $(if $(CU_OBJ),-lstdc++)

$(BUILD)/test_mpi: $(call O32,$(ENGINE_SRC) $(LIB_NOCMD) $(MPI_TEST_SRC)) $(CU_OBJ)
	$(CC) -o $@ $^ $(LDLIBS) $(if $(CU_OBJ),-lstdc++)

$(BUILD)/test_grad: $(call O64,$(ENGINE_SRC) $(GRAD_SRC))
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/f32/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/f64/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRUNE_DOUBLE -c $< -o $@

$(BUILD)/cu/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -c $< -o $@

# Tests run from the repo root (fixtures are found relative to it). scripts/run-tests.sh adds
# up both binaries' counts into the one closing line.
test: $(BUILD)/rune $(BUILD)/test_unit $(BUILD)/test_grad
	@RUNE_BIN=$(BUILD)/rune scripts/run-tests.sh $(BUILD)

# The mpirun tests (tests/mpi/): an MPI=1 build of rune and of the test binary in build/mpi, run
# by scripts/test-mpi.sh (needs Open MPI: scripts/install-mpi.sh). Ends with "N passed, N failed".
test-mpi:
	@$(MAKE) --no-print-directory MPI=1 BUILD=build/mpi build/mpi/rune build/mpi/test_mpi
	@scripts/test-mpi.sh build/mpi

unit: $(BUILD)/test_unit
	$(BUILD)/test_unit $(T)

grad: $(BUILD)/test_grad
	$(BUILD)/test_grad $(T)

asan:
	$(MAKE) BUILD=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

fixtures:
	@for s in scripts/fixtures/gen_*.py; do echo "== $$s"; $(PYTHON) $$s || exit 1; done

bench: rune
	./rune bench

clean:
	rm -rf build rune

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
