/* cmd_screen.c - an instance's screen: 'display' (how to connect),
 * 'screenshot' (a picture, PNG or PPM) and 'sendkeys' (typing on its
 * keyboard).  The RFB client and the image writers are src/screen's. */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"
#include "screen/screen.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The instance NAME, loaded, with a screen. */
static int load(const char *name, struct instance *in)
{
	od_err e;
	if (instance_load(name, in, &e) < 0)
		return cli_fail(&e);
	if (!in->spec.screen) {
		instance_free(in);
		od_err_set(&e, OD_E_USAGE, "instance '%s' has no screen (deployed with --no-screen, or before screens existed)",
			   name);
		return cli_fail(&e);
	}
	return EXIT_OK;
}

static rfb_client *connect_screen(struct instance *in, bool tcp, od_err *e)
{
	if (!instance_running_pid(in)) {
		od_err_set(e, OD_E_USAGE, "instance '%s' is not running", in->name);
		return NULL;
	}
	if (tcp) {
		if (!in->spec.vnc_listen || !in->spec.vnc_password_file) {
			od_err_set(e, OD_E_USAGE, "instance '%s' has no VNC on TCP (deploy --vnc ADDR:PORT)", in->name);
			return NULL;
		}
		char *pw = NULL, host[64];
		size_t len;
		const char *colon = strrchr(in->spec.vnc_listen, ':');
		if (!colon || (size_t)(colon - in->spec.vnc_listen) >= sizeof host) {
			od_err_set(e, OD_E_INVALID, "bad VNC address '%s'", in->spec.vnc_listen);
			return NULL;
		}
		memcpy(host, in->spec.vnc_listen, (size_t)(colon - in->spec.vnc_listen));
		host[colon - in->spec.vnc_listen] = '\0';
		if (od_read_file(in->spec.vnc_password_file, 64, &pw, &len, e) < 0)
			return NULL;
		rfb_client *c = rfb_open_tcp(host, (unsigned)strtoul(colon + 1, NULL, 10), pw, 10000, e);
		memset(pw, 0, len);
		free(pw);
		return c;
	}
	/* The UNIX socket appears a moment after QEMU starts. */
	for (int i = 0; i < 50 && access(in->spec.vnc_socket, F_OK) != 0; i++)
		usleep(100 * 1000);
	return rfb_open_unix(in->spec.vnc_socket, NULL, 10000, e);
}

/* The screen of --socket SOCK, or of instance NAME (its UNIX socket, or its
 * TCP VNC with tcp).  EXIT_OK with *c, or *c NULL and the error in e; another
 * exit status when the instance could not be loaded (already reported). */
static int open_screen(const char *sock, const char *name, bool tcp, rfb_client **c, od_err *e)
{
	if (sock) {
		*c = rfb_open_unix(sock, NULL, 10000, e);
		return EXIT_OK;
	}
	struct instance in;
	int rc = load(name, &in);
	if (rc != EXIT_OK) {
		*c = NULL;
		return rc;
	}
	*c = connect_screen(&in, tcp, e);
	instance_free(&in);
	return EXIT_OK;
}

static void display_usage(FILE *f)
{
	fprintf(f, "Usage: ovfdeploy display [--json] [--connect URI] NAME\n"
		   "Show how to connect to an instance's screen (VNC); with --connect, an\n"
		   "instance on a libvirt host.\n");
}

/* display --connect: the screen of a domain on a libvirt host is on a UNIX
 * socket there, which virt-viewer reaches through the same URI. */
static int display_libvirt(const char *uri, const char *name)
{
	od_err e;
	signal(SIGPIPE, SIG_IGN);
	lv_conn *c = lv_open(uri, &e);
	if (!c)
		return cli_fail(&e);
	bool running;
	char *sock;
	int rc = lv_display(c, name, &running, &sock, &e);
	lv_close(c);
	if (rc < 0)
		return cli_fail(&e);
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "name", name);
		json_str(&w, "connect", uri);
		json_bool(&w, "running", running);
		json_str(&w, "vnc_socket", sock && *sock ? sock : NULL);
		json_obj_end(&w);
		json_finish(&w);
	} else {
		printf("Screen of %s on %s%s:\n", name, uri, running ? "" : " (not running: 'ovfdeploy start --connect' it first)");
		if (sock && *sock)
			printf("  VNC on the UNIX socket %s on that host\n", sock);
		printf("    viewer:  virt-viewer --connect '%s' %s   (Debian package virt-viewer)\n", uri, name);
		printf("  picture: ovfdeploy screenshot --connect '%s' %s -o screen.png\n", uri, name);
	}
	free(sock);
	return EXIT_OK;
}

int cmd_display(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'C'},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const char *uri = NULL;
	int opt;
	optind = 1;
	while ((opt = cli_next_opt(argc, argv, "qvh", longopts, display_usage)) != -1) {
		if (opt == CLI_OPT_HELP)
			return EXIT_OK;
		if (opt == 'C') {
			uri = optarg;
			continue;
		}
		return cli_usage_error("display", "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error("display", "expected one instance name");
	if (!uri)
		uri = cli_libvirt_uri(0, NULL);
	if (uri)
		return display_libvirt(uri, argv[optind]);
	struct instance in;
	int rc = load(argv[optind], &in);
	if (rc != EXIT_OK)
		return rc;
	bool running = instance_running_pid(&in) != 0;
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "name", in.name);
		json_bool(&w, "running", running);
		json_str(&w, "vnc_socket", in.spec.vnc_socket);
		json_str(&w, "vnc_listen", in.spec.vnc_listen);
		json_str(&w, "vnc_password_file", in.spec.vnc_listen ? in.spec.vnc_password_file : NULL);
		json_obj_end(&w);
		json_finish(&w);
	} else {
		printf("Screen of %s%s:\n", in.name, running ? "" : " (not running: 'ovfdeploy start' it first)");
		printf("  VNC on the UNIX socket %s (only you can open it; no password)\n", in.spec.vnc_socket);
		printf("    viewer:  vncviewer %s   (TigerVNC; Debian package tigervnc-viewer)\n", in.spec.vnc_socket);
		printf("    remote:  ssh -L 5900:%s HOST, then a VNC viewer on localhost:5900\n", in.spec.vnc_socket);
		if (in.spec.vnc_listen)
			printf("  VNC on %s, password in %s\n", in.spec.vnc_listen, in.spec.vnc_password_file);
		printf("  picture: ovfdeploy screenshot %s -o screen.png; keys: ovfdeploy sendkeys %s TEXT\n", in.name,
		       in.name);
	}
	instance_free(&in);
	return EXIT_OK;
}

static void screenshot_usage(FILE *f)
{
	fprintf(f, "Usage: ovfdeploy screenshot NAME -o FILE\n"
		   "Take a picture of a running instance's screen through VNC.\n"
		   "\n"
		   "  -o, --output FILE   where to write it: PNG, or PPM when FILE ends in .ppm\n"
		   "  --stable MS         wait until the screen has not changed (but for a blinking\n"
		   "                      cursor) for MS milliseconds (at most 60 s; default: at once)\n"
		   "  --tcp               connect to the instance's VNC on TCP (deploy --vnc) with its\n"
		   "                      password, instead of its UNIX socket\n"
		   "  --socket PATH       a VNC server on this UNIX socket instead of an instance\n"
		   "                      (e.g. 'ovfdeploy run --vnc unix:PATH'); then no NAME\n"
		   "  --connect URI       an instance on a libvirt host (deploy --connect): the\n"
		   "                      picture the host's hypervisor takes\n");
}

/* Where pictures come from: an RFB session, or a libvirt host. */
struct shot_src {
	rfb_client *rfb;
	lv_conn *lv;
	const char *name;
};

static int shoot(struct shot_src *s, struct screen_image *img, od_err *e)
{
	if (s->rfb)
		return rfb_capture(s->rfb, img, e);
	unsigned char *data;
	size_t len;
	char *mime;
	if (lv_screenshot(s->lv, s->name, &data, &len, &mime, e) < 0)
		return -1;
	int rc = strstr(mime, "portable-pixmap") ? screen_image_from_ppm(data, len, img, e)
		 : !strcmp(mime, "image/png")    ? screen_image_from_png(data, len, img, e)
						 : od_err_set(e, OD_E_UNSUPPORTED,
							      "the libvirt host sent a %s picture; PNG and PPM are read", mime);
	if (rc < 0)
		od_err_prefix(e, "the screen of '%s'", s->name);
	free(data);
	free(mime);
	return rc;
}

/* The same picture but for, at most, a blinking text cursor: the pixels
 * that differ fit in one character cell (16x16). */
static bool same(const struct screen_image *a, const struct screen_image *b)
{
	if (a->width != b->width || a->height != b->height)
		return false;
	unsigned x0 = a->width, y0 = a->height, x1 = 0, y1 = 0;
	for (unsigned y = 0; y < a->height; y++) {
		const uint8_t *ra = a->rgb + (size_t)y * a->width * 3, *rb = b->rgb + (size_t)y * a->width * 3;
		if (!memcmp(ra, rb, (size_t)a->width * 3))
			continue;
		for (unsigned x = 0; x < a->width; x++)
			if (memcmp(ra + x * 3, rb + x * 3, 3)) {
				x0 = x < x0 ? x : x0;
				x1 = x > x1 ? x : x1;
				y0 = y < y0 ? y : y0;
				y1 = y > y1 ? y : y1;
			}
	}
	return x0 > x1 || (x1 - x0 < 16 && y1 - y0 < 16);
}

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int cmd_screenshot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"stable", required_argument, NULL, 's'},
		{"tcp", no_argument, NULL, 't'},
		{"socket", required_argument, NULL, 'S'},
		{"connect", required_argument, NULL, 'C'},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const char *uri = NULL;
	const char *out = NULL;
	unsigned long stable = 0;
	bool tcp = false;
	const char *sock = NULL;
	int opt;
	optind = 1;
	while ((opt = cli_next_opt(argc, argv, "qvho:", longopts, screenshot_usage)) != -1) {
		char *end;
		switch (opt) {
		case 'o': out = optarg; break;
		case 't': tcp = true; break;
		case 'S': sock = optarg; break;
		case 'C': uri = optarg; break;
		case 's':
			stable = strtoul(optarg, &end, 10);
			if (*end || end == optarg || stable > 60000)
				return cli_usage_error("screenshot", "--stable %s: milliseconds, at most 60000", optarg);
			break;
		case CLI_OPT_HELP: return EXIT_OK;
		default: return cli_usage_error("screenshot", "unknown option");
		}
	}
	if (optind != argc - (sock ? 0 : 1))
		return cli_usage_error("screenshot", sock ? "--socket takes no instance name" : "expected one instance name");
	if (!out)
		return cli_usage_error("screenshot", "-o FILE is required");
	if (!uri && !sock && !tcp)
		uri = cli_libvirt_uri(0, NULL); /* $OVFDEPLOY_CONNECT, as for the other commands */
	if (uri && (sock || tcp))
		return cli_usage_error("screenshot", "--connect takes the picture from the libvirt host: no --socket or --tcp");
	od_err e;
	struct shot_src src = {.name = argv[optind]};
	int rc = EXIT_OK;
	if (uri) {
		signal(SIGPIPE, SIG_IGN);
		if (!(src.lv = lv_open(uri, &e)))
			return cli_fail(&e);
	} else {
		rc = open_screen(sock, argv[optind], tcp, &src.rfb, &e);
		if (rc != EXIT_OK)
			return rc;
		if (!src.rfb)
			return cli_fail(&e);
	}
	struct screen_image img = {0}, prev = {0};
	rc = shoot(&src, &img, &e);
	if (rc == 0 && stable) {
		/* The same picture for `stable` ms, within 4x that (and a minute). */
		long long give_up = ms_now() + (long long)stable * 4 + 60000, since = ms_now();
		while (rc == 0 && ms_now() - since < (long long)stable) {
			if (ms_now() > give_up) {
				rc = od_err_set(&e, OD_E_IO, "the screen kept changing for %lld s", (long long)(stable * 4 + 60000) / 1000);
				break;
			}
			usleep(stable / 5 * 1000 + 1000);
			screen_image_free(&prev);
			prev = img;
			memset(&img, 0, sizeof img);
			rc = shoot(&src, &img, &e);
			if (rc == 0 && !same(&prev, &img))
				since = ms_now();
		}
	}
	if (src.rfb)
		rfb_close(src.rfb);
	if (src.lv)
		lv_close(src.lv);
	if (rc == 0) {
		size_t n = strlen(out);
		rc = n > 4 && !strcmp(out + n - 4, ".ppm") ? screen_write_ppm(out, &img, &e) : screen_write_png(out, &img, &e);
	}
	if (rc == 0)
		cli_info("%s: %ux%u\n", out, img.width, img.height);
	screen_image_free(&img);
	screen_image_free(&prev);
	return rc == 0 ? EXIT_OK : cli_fail(&e);
}

static void sendkeys_usage(FILE *f)
{
	fprintf(f, "Usage: ovfdeploy sendkeys [--connect URI] NAME TEXT...\n"
		   "       ovfdeploy sendkeys --socket PATH TEXT...   (any VNC server's UNIX socket)\n"
		   "Type TEXT on a running instance's keyboard (through VNC; US layout).  The\n"
		   "words are joined by spaces; \\n is Return, \\t Tab, \\b BackSpace, \\e Escape,\n"
		   "\\\\ a backslash.  Printable ASCII only.\n");
}

/* sendkeys --connect: the keys go through the host's hypervisor, as Linux
 * key codes on a US layout (util/keymap.c), every character checked first. */
static int type_libvirt(const char *uri, const char *name, const char *text, size_t len, od_err *e)
{
	unsigned (*chords)[2] = calloc(len ? len : 1, sizeof *chords);
	if (!chords)
		return od_err_nomem(e);
	for (size_t i = 0; i < len; i++) {
		unsigned code;
		bool shift;
		if (od_us_key((unsigned char)text[i], &code, &shift) < 0) {
			free(chords);
			return od_err_set(e, OD_E_USAGE, "cannot type character 0x%02x (printable ASCII, newline, tab, "
					  "backspace and escape only)", (unsigned char)text[i]);
		}
		chords[i][0] = shift ? OD_KEY_LEFTSHIFT : code;
		chords[i][1] = shift ? code : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	lv_conn *c = lv_open(uri, e);
	int rc = c ? lv_send_keys(c, name, (const unsigned (*)[2])chords, len, e) : -1;
	if (c)
		lv_close(c);
	free(chords);
	return rc;
}

int cmd_sendkeys(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 'S'},
		{"connect", required_argument, NULL, 'C'},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const char *sock = NULL, *uri = NULL;
	int opt;
	optind = 1;
	while ((opt = cli_next_opt(argc, argv, "+qvh", longopts, sendkeys_usage)) != -1) {
		if (opt == CLI_OPT_HELP)
			return EXIT_OK;
		if (opt == 'S') {
			sock = optarg;
			continue;
		}
		if (opt == 'C') {
			uri = optarg;
			continue;
		}
		return cli_usage_error("sendkeys", "unknown option");
	}
	if (uri && sock)
		return cli_usage_error("sendkeys", "--connect types through the libvirt host: no --socket");
	int first = sock ? optind : optind + 1;
	if (argc - first < 1)
		return cli_usage_error("sendkeys", sock ? "expected the text to type" : "expected an instance name and the text to type");
	od_buf text = {0};
	for (int i = first; i < argc; i++) {
		if (i > first && od_buf_printf(&text, " ") < 0)
			goto nomem;
		for (const char *p = argv[i]; *p; p++) {
			char ch = *p;
			if (ch == '\\') {
				switch (p[1]) {
				case 'n': ch = '\n'; break;
				case 't': ch = '\t'; break;
				case 'b': ch = '\b'; break;
				case 'e': ch = 0x1b; break;
				case '\\': ch = '\\'; break;
				default:
					od_buf_free(&text);
					return cli_usage_error("sendkeys", "unknown escape '\\%c' (\\n, \\t, \\b, \\e, \\\\)", p[1] ? p[1] : ' ');
				}
				p++;
			}
			if (od_buf_printf(&text, "%c", ch) < 0)
				goto nomem;
		}
	}
	od_err e;
	if (!uri && !sock)
		uri = cli_libvirt_uri(0, NULL);
	if (uri) {
		int rc = type_libvirt(uri, argv[optind], text.data ? text.data : "", text.len, &e);
		od_buf_free(&text);
		return rc == 0 ? EXIT_OK : cli_fail(&e);
	}
	rfb_client *c;
	int rc = open_screen(sock, argv[optind], false, &c, &e);
	if (rc != EXIT_OK) {
		od_buf_free(&text);
		return rc;
	}
	rc = c && rfb_type(c, text.data ? text.data : "", &e) == 0 ? 0 : -1;
	rfb_close(c);
	od_buf_free(&text);
	return rc == 0 ? EXIT_OK : cli_fail(&e);
nomem:
	od_buf_free(&text);
	od_err_nomem(&e);
	return cli_fail(&e);
}
