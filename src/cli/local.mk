bin_PROGRAMS += ovfdeploy
ovfdeploy_SOURCES = \
	src/cli/cli.h \
	src/cli/main.c \
	src/cli/common.c \
	src/cli/json.c \
	src/cli/progress.c \
	src/cli/cmd_inspect.c \
	src/cli/show_hwplan.c \
	src/cli/cmd_validate.c \
	src/cli/cmd_verify.c \
	src/cli/cmd_pack.c \
	src/cli/cmd_unpack.c \
	src/cli/cmd_convert.c \
	src/cli/cmd_check.c \
	src/cli/cmd_info.c \
	src/cli/cmd_compare.c \
	src/cli/cmd_run.c \
	src/cli/cmd_deploy.c \
	src/cli/cmd_instances.c \
	src/cli/cmd_libvirt.c \
	src/cli/cmd_screen.c \
	src/cli/cmd_export.c \
	src/cli/cmd_pause.c \
	src/cli/cmd_snapshot.c
ovfdeploy_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS)
ovfdeploy_LDADD = src/screen/libscreen.a $(PNG_LIBS) src/deploy/libdeploy.a src/ovf/libovf.a src/runner/librunner.a src/disk/libdisk.a src/util/libodutil.a \
	$(XML_LIBS) $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(ZLIB_LIBS) $(ZSTD_LIBS) $(SLIRP_LIBS) $(SECCOMP_LIBS) $(LIBVIRT_LIBS) $(VNCSERVER_LIBS)
