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

/* The functions taken from libcurl: return type, name, parameters. */
#define LIBCURL_FUNCTIONS(X) \
	X(CURLcode, curl_global_init, (long)) \
	X(void, curl_global_cleanup, (void)) \
	X(CURL *, curl_easy_init, (void)) \
	X(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...)) \
	X(CURLcode, curl_easy_perform, (CURL *)) \
	X(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...)) \
	X(void, curl_easy_cleanup, (CURL *)) \
	X(const char *, curl_easy_strerror, (CURLcode)) \
	X(time_t, curl_getdate, (const char *, const time_t *)) \
	X(CURLSH *, curl_share_init, (void)) \
	X(CURLSHcode, curl_share_setopt, (CURLSH *, CURLSHoption, ...)) \
	X(CURLSHcode, curl_share_cleanup, (CURLSH *)) \
	X(CURLM *, curl_multi_init, (void)) \
	X(CURLMcode, curl_multi_add_handle, (CURLM *, CURL *)) \
	X(CURLMcode, curl_multi_remove_handle, (CURLM *, CURL *)) \
	X(CURLMcode, curl_multi_fdset, (CURLM *, fd_set *, fd_set *, fd_set *, \
	    int *)) \
	X(CURLMcode, curl_multi_timeout, (CURLM *, long *)) \
	X(CURLMcode, curl_multi_perform, (CURLM *, int *)) \
	X(CURLMsg *, curl_multi_info_read, (CURLM *, int *)) \
	X(CURLU *, curl_url, (void)) \
	X(CURLUcode, curl_url_set, (CURLU *, CURLUPart, const char *, \
	    unsigned int)) \
	X(CURLUcode, curl_url_get, (CURLU *, CURLUPart, char **, unsigned int)) \
	X(void, curl_url_cleanup, (CURLU *)) \
	X(void, curl_free, (void *))

#define LIBCURL_FIELD(type, name, params) type (*name) params;
#define LIBCURL_SYMBOL(type, name, params) \
	{#name, (void **)&curl.name},

static struct {
	void *lib;
	long init_flags;
	int init_asked, inited;
	LIBCURL_FUNCTIONS(LIBCURL_FIELD)
} curl;

/* Where each function of libcurl is kept once it is found. */
static const struct {
	const char *name;
	void **slot;
} symbols[] = {
	LIBCURL_FUNCTIONS(LIBCURL_SYMBOL)
};

/* Open libcurl and run the curl_global_init asked for; exits 5 when it
 * cannot be loaded or lacks a function. */
static void
load(void)
{
	size_t i;

	if (curl.lib != NULL)
		return;
	if ((curl.lib = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		die(EXIT_TRANSIENT, "cannot load libcurl: %s", dlerror());
	for (i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
		if ((*symbols[i].slot = dlsym(curl.lib, symbols[i].name)) == NULL)
			die(EXIT_TRANSIENT, "%s: no %s", LIBCURL_SONAME,
			    symbols[i].name);
	if (curl.init_asked) {
		if (curl.curl_global_init(curl.init_flags) != CURLE_OK)
			die(EXIT_TRANSIENT, "cannot initialize libcurl");
		curl.inited = 1;
	}
}

/*
 * The functions passed on to libcurl, loading it first; a function
 * that frees (FREEING) does nothing when libcurl was never loaded, as
 * then there is nothing of its to free. args are the parameters'
 * names.
 */
#define PASS_ON(type, name, params, args) \
	type name params { load(); return curl.name args; }
#define FREEING(name, type, arg) \
	void name(type arg) \
	{ if (arg != NULL && curl.lib != NULL) curl.name(arg); }

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
		curl.curl_global_cleanup();
	curl.inited = curl.init_asked = 0;
}

PASS_ON(CURL *, curl_easy_init, (void), ())
PASS_ON(CURLcode, curl_easy_perform, (CURL *h), (h))
PASS_ON(const char *, curl_easy_strerror, (CURLcode rc), (rc))
PASS_ON(time_t, curl_getdate, (const char *date, const time_t *unused),
    (date, unused))
PASS_ON(CURLSH *, curl_share_init, (void), ())
PASS_ON(CURLSHcode, curl_share_cleanup, (CURLSH *share), (share))
/* The multi interface, for a program's own poll loop (tool-mcp). */
PASS_ON(CURLM *, curl_multi_init, (void), ())
PASS_ON(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *h), (m, h))
PASS_ON(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *h), (m, h))
PASS_ON(CURLMcode, curl_multi_fdset, (CURLM *m, fd_set *r, fd_set *w,
    fd_set *x, int *max), (m, r, w, x, max))
PASS_ON(CURLMcode, curl_multi_timeout, (CURLM *m, long *ms), (m, ms))
PASS_ON(CURLMcode, curl_multi_perform, (CURLM *m, int *running),
    (m, running))
PASS_ON(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left))
/* The URL API, to look at a URL before using it. */
PASS_ON(CURLU *, curl_url, (void), ())
PASS_ON(CURLUcode, curl_url_set, (CURLU *u, CURLUPart what,
    const char *part, unsigned int flags), (u, what, part, flags))
PASS_ON(CURLUcode, curl_url_get, (CURLU *u, CURLUPart what, char **part,
    unsigned int flags), (u, what, part, flags))
FREEING(curl_easy_cleanup, CURL *, h)
FREEING(curl_url_cleanup, CURLU *, u)
FREEING(curl_free, void *, p)

CURLcode
curl_easy_setopt(CURL *h, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	load();
	va_start(ap, option);
	/* The option's number tells the type of its argument. */
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = curl.curl_easy_setopt(h, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = curl.curl_easy_setopt(h, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = curl.curl_easy_setopt(h, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = curl.curl_easy_setopt(h, option, va_arg(ap, curl_off_t));
	else
		rc = curl.curl_easy_setopt(h, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
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
	return curl.curl_easy_getinfo(h, info, out);
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
		rc = curl.curl_share_setopt(share, option, va_arg(ap, long));
		break;
	case CURLSHOPT_LOCKFUNC:
	case CURLSHOPT_UNLOCKFUNC:
		rc = curl.curl_share_setopt(share, option, va_arg(ap, void (*)(void)));
		break;
	default:
		rc = curl.curl_share_setopt(share, option, va_arg(ap, void *));
		break;
	}
	va_end(ap);
	return rc;
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
