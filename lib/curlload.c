/*
 * libcurl, loaded when it is first needed. llm-request, llm-holder and
 * tool-mcp link this file instead of -lcurl: a request that a connection holder
 * makes need not load libcurl and its thirty-odd libraries, most of
 * what such a process would spend starting (only an HTTP date in
 * retry-after, or an error without a message, loads it then), and a
 * holder is listening before it loads them. Header lists are built here (their layout is
 * libcurl's public struct curl_slist); everything else calls into
 * libcurl, opened with dlopen(3) on first use.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define LIBCURL_SONAME "libcurl.so.4"

static struct {
	void *lib;
	long init_flags;
	int init_asked, inited;
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	time_t (*getdate)(const char *, const time_t *);
	CURLSH *(*share_init)(void);
	CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
	CURLSHcode (*share_cleanup)(CURLSH *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_fdset)(CURLM *, fd_set *, fd_set *, fd_set *, int *);
	CURLMcode (*multi_timeout)(CURLM *, long *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	void (*url_cleanup)(CURLU *);
	void (*free)(void *);
} curl;

static void *
need(const char *name)
{
	void *f = dlsym(curl.lib, name);

	if (f == NULL)
		die(EXIT_TRANSIENT, "%s: no %s", LIBCURL_SONAME, name);
	return f;
}

/* Open libcurl and run the curl_global_init asked for; exits 5 when it
 * cannot be loaded. */
static void
load(void)
{
	if (curl.lib != NULL)
		return;
	if ((curl.lib = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		die(EXIT_TRANSIENT, "cannot load libcurl: %s", dlerror());
	*(void **)&curl.global_init = need("curl_global_init");
	*(void **)&curl.global_cleanup = need("curl_global_cleanup");
	*(void **)&curl.easy_init = need("curl_easy_init");
	*(void **)&curl.easy_setopt = need("curl_easy_setopt");
	*(void **)&curl.easy_perform = need("curl_easy_perform");
	*(void **)&curl.easy_getinfo = need("curl_easy_getinfo");
	*(void **)&curl.easy_cleanup = need("curl_easy_cleanup");
	*(void **)&curl.easy_strerror = need("curl_easy_strerror");
	*(void **)&curl.getdate = need("curl_getdate");
	*(void **)&curl.share_init = need("curl_share_init");
	*(void **)&curl.share_setopt = need("curl_share_setopt");
	*(void **)&curl.share_cleanup = need("curl_share_cleanup");
	*(void **)&curl.multi_init = need("curl_multi_init");
	*(void **)&curl.multi_add_handle = need("curl_multi_add_handle");
	*(void **)&curl.multi_remove_handle = need("curl_multi_remove_handle");
	*(void **)&curl.multi_fdset = need("curl_multi_fdset");
	*(void **)&curl.multi_timeout = need("curl_multi_timeout");
	*(void **)&curl.multi_perform = need("curl_multi_perform");
	*(void **)&curl.multi_info_read = need("curl_multi_info_read");
	*(void **)&curl.url = need("curl_url");
	*(void **)&curl.url_set = need("curl_url_set");
	*(void **)&curl.url_get = need("curl_url_get");
	*(void **)&curl.url_cleanup = need("curl_url_cleanup");
	*(void **)&curl.free = need("curl_free");
	if (curl.init_asked) {
		if (curl.global_init(curl.init_flags) != CURLE_OK)
			die(EXIT_TRANSIENT, "cannot initialize libcurl");
		curl.inited = 1;
	}
}

CURLcode
curl_global_init(long flags)
{
	curl.init_flags = flags;
	curl.init_asked = 1;
	return CURLE_OK;
}

void
curl_global_cleanup(void)
{
	if (curl.inited)
		curl.global_cleanup();
	curl.inited = curl.init_asked = 0;
}

CURL *
curl_easy_init(void)
{
	load();
	return curl.easy_init();
}

CURLcode
curl_easy_setopt(CURL *h, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	load();
	va_start(ap, option);
	/* The option's number tells the type of its argument. */
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = curl.easy_setopt(h, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = curl.easy_setopt(h, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = curl.easy_setopt(h, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = curl.easy_setopt(h, option, va_arg(ap, curl_off_t));
	else
		rc = curl.easy_setopt(h, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode
curl_easy_perform(CURL *h)
{
	load();
	return curl.easy_perform(h);
}

CURLcode
curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	va_list ap;
	void *out;

	load();
	va_start(ap, info);
	out = va_arg(ap, void *);
	va_end(ap);
	return curl.easy_getinfo(h, info, out);
}

void
curl_easy_cleanup(CURL *h)
{
	if (h != NULL && curl.lib != NULL)
		curl.easy_cleanup(h);
}

const char *
curl_easy_strerror(CURLcode rc)
{
	load();
	return curl.easy_strerror(rc);
}

time_t
curl_getdate(const char *date, const time_t *unused)
{
	load();
	return curl.getdate(date, unused);
}

CURLSH *
curl_share_init(void)
{
	load();
	return curl.share_init();
}

CURLSHcode
curl_share_setopt(CURLSH *share, CURLSHoption option, ...)
{
	va_list ap;
	CURLSHcode rc;

	load();
	va_start(ap, option);
	switch (option) {
	case CURLSHOPT_SHARE:
	case CURLSHOPT_UNSHARE:
		rc = curl.share_setopt(share, option, va_arg(ap, long));
		break;
	case CURLSHOPT_LOCKFUNC:
	case CURLSHOPT_UNLOCKFUNC:
		rc = curl.share_setopt(share, option, va_arg(ap, void (*)(void)));
		break;
	default:
		rc = curl.share_setopt(share, option, va_arg(ap, void *));
		break;
	}
	va_end(ap);
	return rc;
}

CURLSHcode
curl_share_cleanup(CURLSH *share)
{
	load();
	return curl.share_cleanup(share);
}

/* The multi interface, for a program's own poll loop (tool-mcp). */
CURLM *
curl_multi_init(void)
{
	load();
	return curl.multi_init();
}

CURLMcode
curl_multi_add_handle(CURLM *m, CURL *h)
{
	load();
	return curl.multi_add_handle(m, h);
}

CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *h)
{
	load();
	return curl.multi_remove_handle(m, h);
}

CURLMcode
curl_multi_fdset(CURLM *m, fd_set *r, fd_set *w, fd_set *x, int *max)
{
	load();
	return curl.multi_fdset(m, r, w, x, max);
}

CURLMcode
curl_multi_timeout(CURLM *m, long *ms)
{
	load();
	return curl.multi_timeout(m, ms);
}

CURLMcode
curl_multi_perform(CURLM *m, int *running)
{
	load();
	return curl.multi_perform(m, running);
}

CURLMsg *
curl_multi_info_read(CURLM *m, int *left)
{
	load();
	return curl.multi_info_read(m, left);
}

/* The URL API, to look at a URL before using it. */
CURLU *
curl_url(void)
{
	load();
	return curl.url();
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	load();
	return curl.url_set(u, what, part, flags);
}

CURLUcode
curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	load();
	return curl.url_get(u, what, part, flags);
}

void
curl_url_cleanup(CURLU *u)
{
	if (u != NULL && curl.lib != NULL)
		curl.url_cleanup(u);
}

void
curl_free(void *p)
{
	if (p != NULL && curl.lib != NULL)
		curl.free(p);
}

struct curl_slist *
curl_slist_append(struct curl_slist *list, const char *data)
{
	struct curl_slist *item, *last;

	if ((item = malloc(sizeof *item)) == NULL)
		return NULL;
	if ((item->data = strdup(data)) == NULL) {
		free(item);
		return NULL;
	}
	item->next = NULL;
	if (list == NULL)
		return item;
	for (last = list; last->next != NULL; last = last->next)
		;
	last->next = item;
	return list;
}

void
curl_slist_free_all(struct curl_slist *list)
{
	struct curl_slist *next;

	for (; list != NULL; list = next) {
		next = list->next;
		free(list->data);
		free(list);
	}
}
