/* verify.c - check a package's manifest and certificate in one read.
 *
 * The descriptor, manifest and certificate were read at open time, so the
 * expected digest of every member is known before its bytes stream past:
 * each member is read once, hashed with the manifest's algorithm (and, for
 * gzip files, inflated into nothing to catch corruption and bombs), and
 * handed to an optional sink (unpack's writer).  Nothing else is read. */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/pkg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *ovf_verdict_name(enum ovf_verdict v)
{
	switch (v) {
	case OVF_FILE_OK: return "ok";
	case OVF_FILE_UNCHECKED: return "unchecked";
	case OVF_FILE_MISMATCH: return "mismatch";
	case OVF_FILE_MISSING: return "missing";
	case OVF_FILE_UNLISTED: return "unlisted";
	case OVF_FILE_EXTRA: return "extra";
	case OVF_FILE_BAD: return "bad";
	}
	return "?";
}

static struct ovf_verify_file *add_file(struct ovf_verify_report *r, const char *name, od_err *e)
{
	struct ovf_verify_file *nv = realloc(r->files, (r->nfiles + 1) * sizeof *nv);
	if (!nv) {
		od_err_nomem(e);
		return NULL;
	}
	r->files = nv;
	struct ovf_verify_file *f = &r->files[r->nfiles];
	memset(f, 0, sizeof *f);
	f->name = od_strdup(name);
	if (!f->name) {
		od_err_nomem(e);
		return NULL;
	}
	r->nfiles++;
	return f;
}

static void set_problem(struct ovf_verify_file *f, enum ovf_verdict v, const char *msg)
{
	f->verdict = v;
	if (!f->problem)
		f->problem = od_strdup(msg);
}

static struct ovf_verify_file *find_file(struct ovf_verify_report *r, const char *name)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (!strcmp(r->files[i].name, name))
			return &r->files[i];
	return NULL;
}

struct stream_ctx {
	ovf_hasher *h;
	ovf_inflater *z;
	bool z_failed;
	od_err zerr;
	const struct ovf__sink *sink;
	bool sink_failed;
	const struct ovf_verify_opts *o;
	uint64_t done, total;
};

static int on_data(void *ctx_, const void *buf, size_t len, od_err *e)
{
	struct stream_ctx *c = ctx_;
	if (c->h && ovf_hasher_update(c->h, buf, len, e) < 0)
		return -1;
	/* A gzip failure spoils only this file's verdict; keep hashing so the
	 * digest is still reported. */
	if (c->z && !c->z_failed && ovf_inflater_feed(c->z, buf, len, &c->zerr) < 0)
		c->z_failed = true;
	if (c->sink && c->sink->data(c->sink->ctx, buf, len, e) < 0) {
		c->sink_failed = true;
		return -1;
	}
	c->done += len;
	if (c->o && c->o->progress)
		c->o->progress(c->o->progress_ctx, c->done, c->total);
	return 0;
}

/* Judge one member: compare its digest to the manifest's. */
static int check_member(ovf_package *p, const struct ovf_member *m, const struct ovf_manifest *mf,
			bool has_mf, struct ovf_verify_file *vf, struct stream_ctx *c, const char *mem,
			od_err *e)
{
	const struct ovf_manifest_entry *me = has_mf ? ovf_manifest_find(mf, m->name) : NULL;
	vf->size = m->size;
	c->h = NULL;
	if (me) {
		vf->alg = me->alg;
		od_hex(me->digest, ovf_digest_len(me->alg), vf->expected);
		c->h = ovf_hasher_new(1u << me->alg, e);
		if (!c->h)
			return -1;
	}
	if (c->sink && c->sink->begin(c->sink->ctx, m, e) < 0)
		goto fail;
	int rc;
	od_err re;
	od_err_clear(&re);
	if (mem)
		rc = on_data(c, mem, (size_t)m->size, &re);
	else
		rc = ovf_package_read_member(p, m, on_data, c, &re);
	if (rc < 0) {
		ovf_hasher_free(c->h);
		c->h = NULL;
		if (c->sink_failed || re.code == OD_E_IO || re.code == OD_E_NOMEM || re.code == OD_E_INTERNAL) {
			*e = re;
			return -1;
		}
		set_problem(vf, OVF_FILE_BAD, re.msg);
		return 0;
	}
	if (c->sink && c->sink->end(c->sink->ctx, m, e) < 0)
		goto fail;
	if (me) {
		unsigned char d[OVF_DIGEST_MAX];
		if (ovf_hasher_final(c->h, me->alg, d, e) < 0)
			goto fail;
		od_hex(d, ovf_digest_len(me->alg), vf->actual);
		if (vf->verdict == OVF_FILE_OK && strcmp(vf->actual, vf->expected))
			vf->verdict = OVF_FILE_MISMATCH;
	} else if (vf->verdict == OVF_FILE_OK) {
		if (has_mf)
			set_problem(vf, OVF_FILE_UNLISTED, "in the package but not in the manifest");
		else
			vf->verdict = OVF_FILE_UNCHECKED;
	}
	ovf_hasher_free(c->h);
	c->h = NULL;
	return 0;
fail:
	ovf_hasher_free(c->h);
	c->h = NULL;
	return -1;
}

int ovf__verify_run(ovf_package *p, const struct ovf_verify_opts *o, struct ovf_verify_report *r,
		    const struct ovf__sink *sink, od_err *e)
{
	static const struct ovf_verify_opts none = {0};
	if (!o)
		o = &none;
	memset(r, 0, sizeof *r);
	struct ovf_manifest mf = {0};
	bool has_mf = false;
	int rc = -1;
	struct stream_ctx c = {.sink = sink, .o = o};

	if (p->manifest) {
		r->has_manifest = true;
		od_err me;
		struct ovf_warnings w = {0};
		if (ovf_manifest_parse(p->manifest, p->manifest_len, p->manifest_member->name, &mf, &w, &me) < 0)
			ovf_warn(&r->problems, "%s", me.msg);
		else
			has_mf = true;
		for (size_t i = 0; i < w.n; i++)
			ovf_warn(&p->warnings, "%s", w.v[i]);
		ovf_warnings_free(&w);
	}

	/* Work out what will be read, for the progress total. */
	for (size_t i = 0; i < p->env->nfiles; i++) {
		const struct ovf_member **v;
		size_t n;
		od_err ig;
		if (ovf_package_file_members(p, &p->env->files[i], &v, &n, &ig) == 0) {
			for (size_t j = 0; j < n; j++)
				c.total += v[j]->size;
			free(v);
		}
	}

	/* The descriptor, from memory. */
	struct ovf_verify_file *vf = add_file(r, p->descriptor_member->name, e);
	if (!vf || check_member(p, p->descriptor_member, &mf, has_mf, vf, &c, p->descriptor, e) < 0)
		goto out;
	/* The manifest and certificate are not judged by digest, but unpack
	 * writes them. */
	if (sink) {
		const struct ovf_member *mm[2] = {p->manifest_member, p->cert_member};
		const char *data[2] = {p->manifest, p->cert};
		for (int k = 0; k < 2; k++) {
			if (!mm[k])
				continue;
			if (sink->begin(sink->ctx, mm[k], e) < 0 || sink->data(sink->ctx, data[k], (size_t)mm[k]->size, e) < 0 ||
			    sink->end(sink->ctx, mm[k], e) < 0)
				goto out;
		}
	}

	for (size_t i = 0; i < p->env->nfiles; i++) {
		const struct ovf_file *f = &p->env->files[i];
		if (!f->href || strstr(f->href, "://"))
			continue;
		const struct ovf_member **v;
		size_t n;
		od_err fe;
		if (ovf_package_file_members(p, f, &v, &n, &fe) < 0) {
			if (fe.code == OD_E_NOMEM) {
				*e = fe;
				goto out;
			}
			vf = add_file(r, f->href, e);
			if (!vf)
				goto out;
			set_problem(vf, fe.code == OD_E_INVALID && strstr(fe.msg, "missing") ? OVF_FILE_MISSING : OVF_FILE_BAD,
				    fe.msg);
			continue;
		}
		size_t first = r->nfiles;
		uint64_t total = 0;
		for (size_t j = 0; j < n; j++) {
			total += v[j]->size;
			if (!add_file(r, v[j]->name, e)) {
				free(v);
				goto out;
			}
		}
		/* A size that disagrees with the descriptor: the member is not
		 * what the descriptor describes (or a hostile declaration that
		 * would have us allocate or expect far more).  Judged without
		 * reading. */
		if (f->has_size && f->size != total) {
			char msg[OD_ERR_MSG_MAX];
			snprintf(msg, sizeof msg, "'%s' is %llu bytes in the package but ovf:size says %llu", f->href,
				 (unsigned long long)total, (unsigned long long)f->size);
			for (size_t j = 0; j < n; j++) {
				set_problem(&r->files[first + j], OVF_FILE_BAD, msg);
				r->files[first + j].size = v[j]->size;
			}
			free(v);
			continue;
		}
		c.z = NULL;
		c.z_failed = false;
		if (ovf__is_gzip(f)) {
			c.z = ovf_inflater_new(f->href, ovf_file_inflate_limit(p->env, f), NULL, NULL, e);
			if (!c.z) {
				free(v);
				goto out;
			}
		}
		for (size_t j = 0; j < n; j++) {
			if (check_member(p, v[j], &mf, has_mf, &r->files[first + j], &c, NULL, e) < 0) {
				ovf_inflater_free(c.z);
				c.z = NULL;
				free(v);
				goto out;
			}
		}
		if (c.z && !c.z_failed && ovf_inflater_finish(c.z, &c.zerr) < 0)
			c.z_failed = true;
		if (c.z_failed)
			set_problem(&r->files[first + n - 1], OVF_FILE_BAD, c.zerr.msg);
		ovf_inflater_free(c.z);
		c.z = NULL;
		free(v);
	}

	/* What the manifest lists beyond the descriptor and References. */
	if (has_mf) {
		for (size_t i = 0; i < mf.n; i++) {
			if (find_file(r, mf.v[i].name))
				continue;
			vf = add_file(r, mf.v[i].name, e);
			if (!vf)
				goto out;
			vf->alg = mf.v[i].alg;
			od_hex(mf.v[i].digest, ovf_digest_len(mf.v[i].alg), vf->expected);
			const struct ovf_member *m = ovf_package_member(p, mf.v[i].name);
			bool present = m && m->present;
			if (!present && p->kind != OVF_PKG_OVA && p->dir) {
				/* A directory holds more than its members: look, for
				 * a truthful message (names were not judged yet). */
				char *n = od_strdup(mf.v[i].name);
				od_err ig;
				if (n && ovf__check_name(n, p->path, &ig) == 0) {
					char *full = od_asprintf("%s/%s", p->dir, n);
					struct stat st;
					present = full && stat(full, &st) == 0 && S_ISREG(st.st_mode);
					free(full);
				}
				free(n);
			}
			if (present)
				set_problem(vf, OVF_FILE_EXTRA, "listed in the manifest but not in the descriptor's References");
			else
				set_problem(vf, OVF_FILE_MISSING, "listed in the manifest but not in the package");
		}
	}
	/* Members nobody mentions: harmless to us, but other tools reject them
	 * and unpack does not extract them. */
	if (p->kind == OVF_PKG_OVA)
		for (size_t i = 0; i < p->nmembers; i++) {
			const struct ovf_member *m = &p->members[i];
			if (m == p->manifest_member || m == p->cert_member || find_file(r, m->name))
				continue;
			ovf_warn(&p->warnings, "%s: member '%s' is not in the descriptor's References%s", p->path, m->name,
				 sink ? "; not extracted" : "");
		}

	if (!r->has_manifest)
		ovf_warn(&p->warnings, "%s: no manifest: file digests cannot be checked", p->path);

	/* The certificate. */
	if (p->cert) {
		r->has_cert = true;
		struct ovf_cert cert;
		od_err ce;
		struct ovf_warnings w = {0};
		if (ovf_cert_parse(p->cert, p->cert_len, p->cert_member->name, &cert, &w, &ce) < 0)
			ovf_warn(&r->problems, "%s", ce.msg);
		else {
			if (!p->manifest)
				ovf_warn(&r->problems, "%s: a certificate but no manifest to check it against",
					 p->cert_member->name);
			else if (strcmp(cert.signed_name, p->manifest_member->name))
				ovf_warn(&r->problems, "%s: the signature is over '%s', not over the manifest '%s'",
					 p->cert_member->name, cert.signed_name, p->manifest_member->name);
			else if (ovf_cert_verify(&cert, p->manifest, p->manifest_len, o->ca_file, &r->cert, e) < 0) {
				ovf_cert_free(&cert);
				ovf_warnings_free(&w);
				goto out;
			} else if (!r->cert.signature_ok || !r->cert.chain_ok || !r->cert.time_ok)
				ovf_warn(&r->problems, "%s: %s", p->cert_member->name,
					 r->cert.problem ? r->cert.problem : "certificate check failed");
			ovf_cert_free(&cert);
		}
		for (size_t i = 0; i < w.n; i++)
			ovf_warn(&p->warnings, "%s", w.v[i]);
		ovf_warnings_free(&w);
	} else if (o->require_signature)
		ovf_warn(&r->problems, "%s: the package is not signed (no .cert) and a signature is required", p->path);

	r->ok = r->problems.n == 0;
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].verdict != OVF_FILE_OK && r->files[i].verdict != OVF_FILE_UNCHECKED)
			r->ok = false;
	rc = 0;
out:
	ovf_hasher_free(c.h);
	ovf_manifest_free(&mf);
	return rc;
}

int ovf_verify(ovf_package *p, const struct ovf_verify_opts *o, struct ovf_verify_report *r, od_err *e)
{
	return ovf__verify_run(p, o, r, NULL, e);
}

void ovf_verify_report_free(struct ovf_verify_report *r)
{
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].name);
		free(r->files[i].problem);
	}
	free(r->files);
	ovf_cert_result_free(&r->cert);
	ovf_warnings_free(&r->problems);
	memset(r, 0, sizeof *r);
}
