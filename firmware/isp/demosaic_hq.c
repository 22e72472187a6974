/* The ``hq`` demosaic's arithmetic in one compiled pass per step (see demosaic_hq.py for the method).
 *
 * Written in C because the method is ~100 whole-plane operations in numpy/OpenCV, each streaming a band's
 * planes through memory, and Python's call overhead forbids cache-sized pieces: the same arithmetic here
 * takes a fifth of the time (docs/isp-speed.md). It is plain C99 with no library beyond CPython, built by
 * pip from pyproject.toml; the compiler vectorises the inner loops (SSE/AVX on x86, NEON on the Pi).
 *
 * Integer arithmetic throughout except the direction weight (float, computed the same way in the vector
 * body and the scalar tail: built with -ffp-contract=off), so a pixel's value does not depend on where a
 * band starts: bands give the whole frame's bytes.
 *
 * Layout: an RGGB mosaic (the Python side swaps red and blue or shifts a column for other orders) is split
 * into four quarter-size planes padded by one site, mirrored as the mosaic mirrors about its edges
 * (OpenCV's BORDER_REFLECT_101); the colour differences are padded by repeating their edge.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#define WSCALE 256 /* direction weights in 1/256 */

/* On x86-64 the hot loops are also built for AVX2 (chosen at load time, glibc's ifunc): the baseline SSE2
 * lacks 32-bit multiplies and min/max, and AVX2 runs the kernel ~2.5x faster. Same results either way. */
#if defined(__x86_64__) && defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__))
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

static inline int32_t iabs(int32_t v) { return v < 0 ? -v : v; }
static inline int32_t clamp16(int32_t v) { return v < 0 ? 0 : (v > 65535 ? 65535 : v); }

/* Mirror index k (-1 or n) of a plane whose sites sit at offset ``o`` (0 or 1) in the mosaic, as the mosaic
 * mirrors about its first and last row or column (reflect-101). */
static inline ptrdiff_t mirror(ptrdiff_t k, ptrdiff_t n, int o) { return k < 0 ? -k - o : 2 * n - 1 - k - o; }

typedef struct {
    ptrdiff_t h2, w2, s;      /* plane size and the row stride of padded planes (w2 + 2) */
    uint16_t *c[4];           /* R, Gr, Gb, B: padded planes */
    int32_t *g[2], *w[2];     /* green and horizontal weight at R (0) and B (1) sites, unpadded */
    int32_t *d[2], *o[2];     /* R-G at R, B-G at B sites; R-G at B, B-G at R sites: padded */
    uint16_t *row;            /* one output row as three colour planes */
} planes_t;

#define AT(p, i, j) ((p)[((i) + 1) * P->s + (j) + 1])

HOT static void split(const uint16_t *raw, const planes_t *P)
{
    const ptrdiff_t h2 = P->h2, w2 = P->w2, w = 2 * w2;
    for (int k = 0; k < 4; k++) {
        const int dy = k >> 1, dx = k & 1;
        uint16_t *p = P->c[k];
        for (ptrdiff_t i = 0; i < h2; i++) {
            const uint16_t *src = raw + (2 * i + dy) * w + dx;
            uint16_t *dst = &AT(p, i, 0);
            for (ptrdiff_t j = 0; j < w2; j++)
                dst[j] = src[2 * j];
            dst[-1] = dst[mirror(-1, w2, dx)];
            dst[w2] = dst[mirror(w2, w2, dx)];
        }
        memcpy(&AT(p, -1, -1), &AT(p, mirror(-1, h2, dy), -1), P->s * sizeof *p);
        memcpy(&AT(p, h2, -1), &AT(p, mirror(h2, h2, dy), -1), P->s * sizeof *p);
    }
}

/* Green at one kind of red/blue site along both axes, blended by cubed gradients; its colour difference.
 * ``c``: the site plane; ``gh0``/``gh1`` the green planes left/right of it (column offsets ``l``, ``r``),
 * ``gv0``/``gv1`` above/below (row offsets ``u``, ``d``). */
HOT static void green(const planes_t *P, int kind, const uint16_t *c, const uint16_t *gh, int l, int r,
                  const uint16_t *gv, int u, int d)
{
    for (ptrdiff_t i = 0; i < P->h2; i++) {
        const uint16_t *cc = &AT(c, i, 0), *cu = &AT(c, i - 1, 0), *cd = &AT(c, i + 1, 0);
        const uint16_t *hl = &AT(gh, i, l), *hr = &AT(gh, i, r), *vu = &AT(gv, i + u, 0), *vd = &AT(gv, i + d, 0);
        int32_t *g = P->g[kind] + i * P->w2, *wt = P->w[kind] + i * P->w2, *dd = &AT(P->d[kind], i, 0);
        for (ptrdiff_t j = 0; j < P->w2; j++) {
            const int32_t x = cc[j];
            const int32_t lap_h = 2 * x - cc[j - 1] - cc[j + 1], lap_v = 2 * x - cu[j] - cd[j];
            const int32_t est_h = (4 * (hl[j] + hr[j]) + lap_h + 4) >> 3; /* (g1 + g2) / 2 + lap / 8 */
            const int32_t est_v = (4 * (vu[j] + vd[j]) + lap_v + 4) >> 3;
            /* Hamilton-Adams' classifier; weight gv^3 / (gh^3 + gv^3) for the horizontal estimate. */
            const float a = (float)(iabs(hl[j] - hr[j]) + iabs(lap_h) + 1);
            const float b = (float)(iabs(vu[j] - vd[j]) + iabs(lap_v) + 1);
            const float a3 = a * a * a, b3 = b * b * b;
            const int32_t wh = (int32_t)(WSCALE * b3 / (a3 + b3) + 0.5f);
            const int32_t gg = clamp16(est_v + (((est_h - est_v) * wh + WSCALE / 2) >> 8));
            g[j] = gg;
            wt[j] = wh;
            dd[j] = x - gg;
        }
    }
}

/* Repeat a padded int32 plane's edge into its border. */
static void repeat_edges(const planes_t *P, int32_t *p)
{
    for (ptrdiff_t i = 0; i < P->h2; i++) {
        AT(p, i, -1) = AT(p, i, 0);
        AT(p, i, P->w2) = AT(p, i, P->w2 - 1);
    }
    memcpy(&AT(p, -1, -1), &AT(p, 0, -1), P->s * sizeof *p);
    memcpy(&AT(p, P->h2, -1), &AT(p, P->h2 - 1, -1), P->s * sizeof *p);
}

/* A colour difference at the opposite colour's sites: the mean of its four diagonal neighbours. */
HOT static void opposite(const planes_t *P)
{
    for (ptrdiff_t i = 0; i < P->h2; i++) {
        const int32_t *r0 = &AT(P->d[0], i, 0), *r1 = &AT(P->d[0], i + 1, 0);
        const int32_t *b0 = &AT(P->d[1], i - 1, 0), *b1 = &AT(P->d[1], i, 0);
        int32_t *rb = &AT(P->o[0], i, 0), *br = &AT(P->o[1], i, 0);
        for (ptrdiff_t j = 0; j < P->w2; j++) {
            rb[j] = (r0[j] + r0[j + 1] + r1[j] + r1[j + 1] + 2) >> 2; /* R-G at B: R sites right and below */
            br[j] = (b0[j - 1] + b0[j] + b1[j - 1] + b1[j] + 2) >> 2; /* B-G at R: B sites left and above */
        }
    }
}

/* ``g`` plus the blend of a vertical and a horizontal pair of differences (pair sums ``v``, ``h``) by the
 * horizontal weight ``wt``, on the 16-bit scale. */
static inline uint16_t at_green(int32_t g, int32_t v, int32_t h, int32_t wt)
{
    return (uint16_t)clamp16(g + ((v * WSCALE + (h - v) * wt + WSCALE) >> 9));
}

/* Three rows of colour planes into one row of RGB pixels (vectorised by the compiler on AVX2 and NEON). */
static inline __attribute__((always_inline)) void interleave(ptrdiff_t w, const uint16_t *restrict red,
                                                             const uint16_t *restrict green,
                                                             const uint16_t *restrict blue, uint16_t *restrict rgb)
{
    for (ptrdiff_t k = 0; k < w; k++) {
        rgb[3 * k] = red[k];
        rgb[3 * k + 1] = green[k];
        rgb[3 * k + 2] = blue[k];
    }
}

/* One row pair of the output from one row of every plane (pointers at the row's first site): each row first
 * as three colour planes, where its two kinds of site interleave (vectorised), then as pixels. ``red`` etc.
 * hold a row each; ``swap`` (constant once inlined) exchanges red and blue for a BGGR mosaic. */
static inline __attribute__((always_inline)) void assemble_row(
    ptrdiff_t w2, int swap, const uint16_t *restrict r, const uint16_t *restrict gr, const uint16_t *restrict gb,
    const uint16_t *restrict b, const int32_t *restrict g_r, const int32_t *restrict g_b,
    const int32_t *restrict w_r, const int32_t *restrict w_b, const int32_t *restrict dr,
    const int32_t *restrict dr_d, const int32_t *restrict db, const int32_t *restrict db_u,
    const int32_t *restrict rb, const int32_t *restrict rb_u, const int32_t *restrict br,
    const int32_t *restrict br_d, uint16_t *restrict red, uint16_t *restrict green, uint16_t *restrict blue,
    uint16_t *restrict top, uint16_t *restrict bottom)
{
    for (ptrdiff_t j = 0; j < w2; j++) {
        /* R site: red as sampled, blue from B-G at R sites. */
        red[2 * j] = r[j];
        green[2 * j] = (uint16_t)g_r[j];
        blue[2 * j] = (uint16_t)clamp16(g_r[j] + br[j]);
        /* Gr site: red left and right, blue above and below; the red site's weight. */
        red[2 * j + 1] = at_green(gr[j], rb_u[j] + rb[j], dr[j] + dr[j + 1], w_r[j]);
        green[2 * j + 1] = gr[j];
        blue[2 * j + 1] = at_green(gr[j], db_u[j] + db[j], br[j] + br[j + 1], w_r[j]);
    }
    interleave(2 * w2, swap ? blue : red, green, swap ? red : blue, top);
    for (ptrdiff_t j = 0; j < w2; j++) {
        /* Gb site: red above and below, blue left and right; the blue site's weight. */
        red[2 * j] = at_green(gb[j], dr[j] + dr_d[j], rb[j - 1] + rb[j], w_b[j]);
        green[2 * j] = gb[j];
        blue[2 * j] = at_green(gb[j], br[j] + br_d[j], db[j - 1] + db[j], w_b[j]);
        /* B site: red from R-G at B sites, blue as sampled. */
        red[2 * j + 1] = (uint16_t)clamp16(g_b[j] + rb[j]);
        green[2 * j + 1] = (uint16_t)g_b[j];
        blue[2 * j + 1] = b[j];
    }
    interleave(2 * w2, swap ? blue : red, green, swap ? red : blue, bottom);
}

HOT static void assemble(const planes_t *P, uint16_t *out, int swap)
{
    const ptrdiff_t w2 = P->w2, w = 2 * w2;
    for (ptrdiff_t i = 0; i < P->h2; i++) {
#define ROW(SWAP)                                                                                                   \
    assemble_row(w2, SWAP, &AT(P->c[0], i, 0), &AT(P->c[1], i, 0), &AT(P->c[2], i, 0), &AT(P->c[3], i, 0),          \
                 P->g[0] + i * w2, P->g[1] + i * w2, P->w[0] + i * w2, P->w[1] + i * w2, &AT(P->d[0], i, 0),        \
                 &AT(P->d[0], i + 1, 0), &AT(P->d[1], i, 0), &AT(P->d[1], i - 1, 0), &AT(P->o[0], i, 0),            \
                 &AT(P->o[0], i - 1, 0), &AT(P->o[1], i, 0), &AT(P->o[1], i + 1, 0), P->row, P->row + w,             \
                 P->row + 2 * w, out + 6 * i * w, out + 3 * (2 * i + 1) * w)
        if (swap)
            ROW(1);
        else
            ROW(0);
#undef ROW
    }
}

/* Bytes of work space for a mosaic of h x w photosites. */
static size_t scratch_bytes(ptrdiff_t h2, ptrdiff_t w2)
{
    const size_t padded = (size_t)(h2 + 2) * (size_t)(w2 + 2), plain = (size_t)h2 * (size_t)w2;
    return 4 * padded * sizeof(uint16_t) + 4 * plain * sizeof(int32_t) + 4 * padded * sizeof(int32_t) +
           6 * (size_t)w2 * sizeof(uint16_t) + 64;
}

static PyObject *py_scratch_bytes(PyObject *self, PyObject *args)
{
    Py_ssize_t h, w;
    if (!PyArg_ParseTuple(args, "nn", &h, &w))
        return NULL;
    return PyLong_FromSize_t(scratch_bytes(h / 2, w / 2));
}

static PyObject *py_demosaic(PyObject *self, PyObject *args)
{
    Py_buffer raw, out, scratch;
    Py_ssize_t h, w;
    int swap;
    if (!PyArg_ParseTuple(args, "y*nnw*w*p", &raw, &h, &w, &out, &scratch, &swap))
        return NULL;
    PyObject *result = NULL;
    const ptrdiff_t h2 = h / 2, w2 = w / 2;
    if (h % 2 || w % 2 || h2 < 2 || w2 < 2) {
        PyErr_Format(PyExc_ValueError, "hq demosaic: %zd x %zd photosites (needs even sizes, at least 4 x 4)", h, w);
    } else if (raw.len != h * w * 2 || out.len != h * w * 6 || (size_t)scratch.len < scratch_bytes(h2, w2)) {
        PyErr_SetString(PyExc_ValueError, "hq demosaic: buffer sizes do not match the mosaic");
    } else {
        planes_t P = {.h2 = h2, .w2 = w2, .s = w2 + 2};
        const size_t padded = (size_t)(h2 + 2) * (size_t)P.s, plain = (size_t)h2 * (size_t)w2;
        char *m = (char *)(((uintptr_t)scratch.buf + 63) & ~(uintptr_t)63);
        for (int k = 0; k < 4; k++, m += padded * sizeof(uint16_t))
            P.c[k] = (uint16_t *)m;
        for (int k = 0; k < 2; k++) {
            P.g[k] = (int32_t *)m, m += plain * sizeof(int32_t);
            P.w[k] = (int32_t *)m, m += plain * sizeof(int32_t);
            P.d[k] = (int32_t *)m, m += padded * sizeof(int32_t);
            P.o[k] = (int32_t *)m, m += padded * sizeof(int32_t);
        }
        P.row = (uint16_t *)m;
        Py_BEGIN_ALLOW_THREADS
        split((const uint16_t *)raw.buf, &P);
        /* Green at R sites: Gr left (column -1) and right (0), Gb above (row -1) and below (0); at B sites:
         * Gb left (0) and right (+1), Gr above (0) and below (+1). */
        green(&P, 0, P.c[0], P.c[1], -1, 0, P.c[2], -1, 0);
        green(&P, 1, P.c[3], P.c[2], 0, 1, P.c[1], 0, 1);
        repeat_edges(&P, P.d[0]);
        repeat_edges(&P, P.d[1]);
        opposite(&P);
        repeat_edges(&P, P.o[0]);
        repeat_edges(&P, P.o[1]);
        assemble(&P, (uint16_t *)out.buf, swap);
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&raw);
    PyBuffer_Release(&out);
    PyBuffer_Release(&scratch);
    return result;
}

static PyMethodDef methods[] = {
    {"demosaic", py_demosaic, METH_VARARGS,
     "demosaic(raw, h, w, out, scratch, swap): an RGGB uint16 mosaic (h, w) into RGB (h, w, 3); swap: BGGR"},
    {"scratch_bytes", py_scratch_bytes, METH_VARARGS, "scratch_bytes(h, w): work space for an h x w mosaic"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_demosaic_hq", NULL, -1, methods};

PyMODINIT_FUNC PyInit__demosaic_hq(void) { return PyModule_Create(&module); }
