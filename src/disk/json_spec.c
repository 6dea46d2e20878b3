/* json_spec.c - parse the "json:{...}" backing names we write; see
 * json_spec.h.  A deliberately small parser: objects, strings and
 * non-negative integers, nesting at most four deep, 4 KiB at most. */
#include "config.h"
#include "disk/json_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
	const char *p, *end;
	od_err *e;
	const char *whole;
};

/* What one object level may hold. */
struct jobj {
	char driver[16];
	char *filename;
	uint64_t offset, size;
	bool has_offset, has_size;
	struct jobj *file; /* nested "file" object */
};

static void jobj_free(struct jobj *o)
{
	while (o) {
		struct jobj *next = o->file;
		free(o->filename);
		free(o);
		o = next;
	}
}

static int bad(struct jp *j, const char *what)
{
	return od_err_set(j->e, OD_E_INVALID, "backing file name '%.80s%s': %s at offset %ld", j->whole,
			  strlen(j->whole) > 80 ? "..." : "", what, (long)(j->p - j->whole));
}

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int expect(struct jp *j, char c)
{
	ws(j);
	if (j->p >= j->end || *j->p != c) {
		char msg[32];
		snprintf(msg, sizeof msg, "expected '%c'", c);
		return bad(j, msg);
	}
	j->p++;
	return 0;
}

static int string(struct jp *j, char **out)
{
	if (expect(j, '"') < 0)
		return -1;
	od_buf b = {0};
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if ((unsigned char)c < 0x20) {
			od_buf_free(&b);
			return bad(j, "control character in string");
		}
		if (c == '\\') {
			if (j->p >= j->end) {
				od_buf_free(&b);
				return bad(j, "unfinished escape");
			}
			c = *j->p++;
			if (c == 'u') {
				/* Only \u00XX for control characters, as we write them. */
				if (j->end - j->p < 4 || strncmp(j->p, "00", 2) != 0) {
					od_buf_free(&b);
					return bad(j, "unsupported \\u escape");
				}
				char hex[3] = {j->p[2], j->p[3], 0};
				char *endp;
				long v = strtol(hex, &endp, 16);
				if (*endp || v == 0) {
					od_buf_free(&b);
					return bad(j, "bad \\u escape");
				}
				c = (char)v;
				j->p += 4;
			} else if (c != '"' && c != '\\' && c != '/') {
				od_buf_free(&b);
				return bad(j, "unsupported escape");
			}
		}
		if (od_buf_append(&b, &c, 1) < 0) {
			od_buf_free(&b);
			return od_err_nomem(j->e);
		}
	}
	if (j->p >= j->end) {
		od_buf_free(&b);
		return bad(j, "unterminated string");
	}
	j->p++;
	if (!b.data && od_buf_append(&b, "", 0) < 0)
		return od_err_nomem(j->e);
	*out = b.data;
	return 0;
}

static int number(struct jp *j, uint64_t *out)
{
	ws(j);
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return bad(j, "expected a non-negative integer");
	uint64_t v = 0;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (!od_mul_u64(v, 10, &v) || !od_add_u64(v, (uint64_t)(*j->p - '0'), &v))
			return bad(j, "integer overflows");
		j->p++;
	}
	*out = v;
	return 0;
}

static int object(struct jp *j, int depth, struct jobj **out)
{
	if (depth > 4)
		return bad(j, "nested too deeply");
	if (expect(j, '{') < 0)
		return -1;
	struct jobj *o = calloc(1, sizeof *o);
	if (!o)
		return od_err_nomem(j->e);
	ws(j);
	bool first = true;
	while (j->p < j->end && *j->p != '}') {
		if (!first && expect(j, ',') < 0)
			goto fail;
		first = false;
		char *key = NULL;
		if (string(j, &key) < 0 || expect(j, ':') < 0) {
			free(key);
			goto fail;
		}
		int rc;
		if (!strcmp(key, "driver")) {
			char *v = NULL;
			rc = string(j, &v);
			if (rc == 0 && strlen(v) >= sizeof o->driver)
				rc = bad(j, "driver name too long");
			if (rc == 0)
				strcpy(o->driver, v);
			free(v);
		} else if (!strcmp(key, "filename")) {
			free(o->filename);
			o->filename = NULL;
			rc = string(j, &o->filename);
		} else if (!strcmp(key, "offset")) {
			rc = number(j, &o->offset);
			o->has_offset = true;
		} else if (!strcmp(key, "size")) {
			rc = number(j, &o->size);
			o->has_size = true;
		} else if (!strcmp(key, "file")) {
			if (o->file)
				rc = bad(j, "duplicate \"file\"");
			else
				rc = object(j, depth + 1, &o->file);
		} else {
			rc = bad(j, "unsupported key");
		}
		free(key);
		if (rc < 0)
			goto fail;
		ws(j);
	}
	if (expect(j, '}') < 0)
		goto fail;
	*out = o;
	return 0;
fail:
	jobj_free(o);
	return -1;
}

static bool is_format(const char *d)
{
	return !strcmp(d, "raw") || !strcmp(d, "qcow2") || !strcmp(d, "vmdk");
}

int disk_json_spec_parse(const char *s, struct disk_json_spec *out, od_err *e)
{
	memset(out, 0, sizeof *out);
	size_t len = strlen(s);
	if (strncmp(s, "json:", 5) != 0)
		return od_err_set(e, OD_E_INVALID, "'%.40s' is not a json: name", s);
	if (len > DISK_JSON_SPEC_MAX)
		return od_err_set(e, OD_E_INVALID, "backing file name of %zu bytes is too long", len);
	struct jp j = {.p = s + 5, .end = s + len, .e = e, .whole = s};
	struct jobj *top = NULL;
	if (object(&j, 0, &top) < 0)
		return -1;
	ws(&j);
	if (j.p != j.end) {
		jobj_free(top);
		return bad(&j, "trailing characters");
	}
	/* Shape: {driver: FMT, file: RANGE-or-FILE}, RANGE = {driver: raw,
	 * offset, size, file: FILE}, FILE = {driver: file, filename}. */
	int rc = 0;
	struct jobj *f = top->file;
	if (!is_format(top->driver) || !f || top->filename || top->has_offset || top->has_size)
		rc = od_err_set(e, OD_E_INVALID, "backing file name '%.80s': unsupported shape", s);
	else if (!strcmp(f->driver, "raw") && f->file) {
		struct jobj *ff = f->file;
		if (!f->has_offset || !f->has_size || f->filename || strcmp(ff->driver, "file") || !ff->filename ||
		    ff->file || ff->has_offset || ff->has_size)
			rc = od_err_set(e, OD_E_INVALID, "backing file name '%.80s': unsupported shape", s);
		else {
			out->has_range = true;
			out->offset = f->offset;
			out->size = f->size;
			out->filename = ff->filename;
			ff->filename = NULL;
		}
	} else if (!strcmp(f->driver, "file") && f->filename && !f->file && !f->has_offset && !f->has_size) {
		out->filename = f->filename;
		f->filename = NULL;
	} else {
		rc = od_err_set(e, OD_E_INVALID, "backing file name '%.80s': unsupported shape", s);
	}
	if (rc == 0) {
		uint64_t end;
		if (out->has_range && !od_add_u64(out->offset, out->size, &end))
			rc = od_err_set(e, OD_E_INVALID, "backing file name '%.80s': range overflows", s);
		else if (!*out->filename)
			rc = od_err_set(e, OD_E_INVALID, "backing file name '%.80s': empty filename", s);
		else
			strcpy(out->format, top->driver);
	}
	jobj_free(top);
	if (rc < 0)
		disk_json_spec_free(out);
	return rc;
}

void disk_json_spec_free(struct disk_json_spec *s)
{
	free(s->filename);
	memset(s, 0, sizeof *s);
}
