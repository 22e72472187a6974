/* The highlight stage's per-block arithmetic (see highlights.py for the method): reconstruction of clipped
 * channels and the roll-off, on the CFA blocks of a band that reach a knee, in place.
 *
 * In numpy it was ~80 calls per band on a few thousand blocks, bound by call overhead and holding the GIL
 * (10 ms of CPU per 12.3 MP frame of the colour chart); here it is one pass over the band that skips row
 * pairs with no bright site, and the GIL is released (docs/isp-speed.md). Double precision throughout; every
 * block is computed alone (its rim flag from the blocks beside it), so bands give the whole frame's bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Frame constants, in the order highlights.py packs them (float64). */
enum {
    P_GAIN = 0,        /* 4: white-balance gain per CFA site (row-major 2x2) */
    P_CEILING = 4,     /* 4: the highest raw value per site (white after white balance) */
    P_START = 8,       /* 4: the raw level above which a site can reach a knee */
    P_CHANNEL = 12,    /* 4: the site's channel, 0 1 2 */
    P_MATRIX = 16,     /* 9: the colour matrix, row-major */
    P_FLOOR = 25,      /* 3: each channel's clip level, white balanced */
    P_TOP = 28,        /* the brightest level the sensor can deliver, white balanced */
    P_LIFT = 29,       /* the matrix's largest row sum of positive entries */
    P_KNEE = 30,       /* KNEE x WHITE */
    P_GAMUT_KNEE = 31, /* GAMUT_KNEE x WHITE */
    P_WHITE = 32,
    P_CLIP = 33,       /* at or above: clipped on the sensor */
    P_NEAR = 34,       /* unclipped channels within this ratio count as one level */
    P_RIM_COLOUR = 35, /* what a rim block keeps of its rebuilt colour */
    P_DARK = 36,       /* a block with no site above this is clearly below the clip */
    P_COUNT = 37,
};

/* The soft knee: identity up to ``knee``, slope 1 there, reaching ``white`` at ``top``. */
static double rolloff(double m, double top, double knee, double white)
{
    if (top <= white)
        return m < white ? m : white;
    const double span = (white - knee) * (top - knee) / (top - white);
    double over = (m < top ? m : top) - knee;
    over = over > 0 ? over : 0;
    return m > knee ? knee + over / (1.0 + over / span) : m;
}

static double mix_max(const double *M, const double c[3])
{
    double best = -INFINITY;
    for (int k = 0; k < 3; k++) {
        const double v = M[3 * k] * c[0] + M[3 * k + 1] * c[1] + M[3 * k + 2] * c[2];
        best = v > best ? v : best;
    }
    return best;
}

/* One block: its four raw sites in, new raw values out; returns 0 (left as it is) or 1. */
static int block(const double *P, const uint16_t raw[4], int rim, uint16_t out[4])
{
    double wb[4], level[3] = {0, 0, 0}, count[3] = {0, 0, 0}, brightest = 0;
    int hit[3] = {0, 0, 0};
    for (int i = 0; i < 4; i++) {
        const int c = (int)P[P_CHANNEL + i];
        wb[i] = raw[i] * P[P_GAIN + i];
        level[c] += wb[i], count[c] += 1;
        hit[c] |= raw[i] >= P[P_CLIP];
        brightest = wb[i] > brightest ? wb[i] : brightest;
    }
    for (int c = 0; c < 3; c++)
        level[c] /= count[c];
    if (brightest <= P[P_KNEE] && mix_max(P + P_MATRIX, level) <= P[P_GAMUT_KNEE])
        return 0; /* reaches neither knee */
    double rebuilt[3] = {level[0], level[1], level[2]};
    if (hit[0] || hit[1] || hit[2] || rim) {
        /* A clipped channel: its clip level, or the unclipped channels' level if brighter (their mean when
         * they agree within NEAR, else the dimmest); with nothing unclipped, the brightest clip level. */
        double clip_max = 0, free_min = INFINITY, free_max = -INFINITY, free_sum = 0;
        int free = 0;
        for (int c = 0; c < 3; c++) {
            if (hit[c]) {
                clip_max = P[P_FLOOR + c] > clip_max ? P[P_FLOOR + c] : clip_max;
            } else {
                free_min = level[c] < free_min ? level[c] : free_min;
                free_max = level[c] > free_max ? level[c] : free_max;
                free_sum += level[c], free++;
            }
        }
        double guess = free_max <= P[P_NEAR] * free_min ? free_sum / free : free_min;
        if (!free)
            guess = clip_max;
        for (int c = 0; c < 3; c++)
            if (hit[c])
                rebuilt[c] = P[P_FLOOR + c] > guess ? P[P_FLOOR + c] : guess;
        if (rim) { /* the edge of a clipped region: most of the colour taken out */
            const double mean = (rebuilt[0] + rebuilt[1] + rebuilt[2]) / 3.0;
            for (int c = 0; c < 3; c++)
                rebuilt[c] = mean + P[P_RIM_COLOUR] * (rebuilt[c] - mean), hit[c] = 1;
        }
    }
    /* The roll-off on the brightest site, and on the brightest channel after the matrix. */
    double own[4], m = 1.0;
    for (int i = 0; i < 4; i++) {
        const int c = (int)P[P_CHANNEL + i];
        own[i] = hit[c] ? rebuilt[c] : wb[i];
        m = own[i] > m ? own[i] : m;
    }
    double after = mix_max(P + P_MATRIX, rebuilt);
    after = after > 1.0 ? after : 1.0;
    const double a = rolloff(m, P[P_TOP], P[P_KNEE], P[P_WHITE]) / m;
    const double b = rolloff(after, P[P_TOP] * P[P_LIFT], P[P_GAMUT_KNEE], P[P_WHITE]) / after;
    const double scale = a < b ? a : b;
    for (int i = 0; i < 4; i++) {
        const double v = nearbyint(own[i] * scale / P[P_GAIN + i]);
        out[i] = (uint16_t)(v < P[P_CEILING + i] ? v : P[P_CEILING + i]);
    }
    return 1;
}

/* Per block of the band: 1 where it is on the rim of a clipped region (a clipped site, and a block beside it,
 * up, down, left or right, the edges repeated, with no site above P_DARK). ``flags``: h2 x w2 bytes. */
static void rims(const double *P, const uint16_t *rows, ptrdiff_t h2, ptrdiff_t w2, uint8_t *flags)
{
    const ptrdiff_t w = 2 * w2;
    for (ptrdiff_t i = 0; i < h2; i++) /* bit 1: clipped, bit 2: dark */
        for (ptrdiff_t j = 0; j < w2; j++) {
            const uint16_t *s = rows + 2 * i * w + 2 * j;
            const uint16_t hi = s[0] > s[1] ? s[0] : s[1], lo = s[w] > s[w + 1] ? s[w] : s[w + 1];
            const uint16_t top = hi > lo ? hi : lo;
            flags[i * w2 + j] = (top >= P[P_CLIP]) | (top > P[P_DARK] ? 0 : 2);
        }
    for (ptrdiff_t i = 0; i < h2; i++)
        for (ptrdiff_t j = 0; j < w2; j++) {
            const uint8_t *f = flags + i * w2;
            const int dark = (f[j] | f[j > 0 ? j - 1 : j] | f[j < w2 - 1 ? j + 1 : j] | f[(i > 0 ? -w2 : 0) + j] |
                              f[(i < h2 - 1 ? w2 : 0) + j]) & 2;
            flags[i * w2 + j] |= dark ? 4 : 0; /* bit 4: dark beside (bit 2 stays for the next blocks) */
        }
    for (ptrdiff_t k = 0; k < h2 * w2; k++)
        flags[k] = (flags[k] & 5) == 5;
}

static PyObject *py_apply(PyObject *self, PyObject *args)
{
    Py_buffer rows, params, scratch;
    Py_ssize_t h, w;
    int with_rims;
    if (!PyArg_ParseTuple(args, "w*nny*pw*", &rows, &h, &w, &params, &with_rims, &scratch))
        return NULL;
    PyObject *result = NULL;
    const ptrdiff_t h2 = h / 2, w2 = w / 2;
    if (h % 2 || w % 2) {
        PyErr_Format(PyExc_ValueError, "highlights: %zd x %zd photosites (needs even sizes)", h, w);
    } else if (rows.len != h * w * 2 || params.len != P_COUNT * 8 || scratch.len < h2 * w2 + w2) {
        PyErr_SetString(PyExc_ValueError, "highlights: buffer sizes do not match the mosaic");
    } else {
        const double *P = params.buf;
        uint16_t *raw = rows.buf;
        uint8_t *rim = scratch.buf, *bright = rim + h2 * w2;
        const uint16_t s0 = (uint16_t)P[P_START], s1 = (uint16_t)P[P_START + 1];
        const uint16_t s2 = (uint16_t)P[P_START + 2], s3 = (uint16_t)P[P_START + 3];
        Py_BEGIN_ALLOW_THREADS
        if (with_rims)
            rims(P, raw, h2, w2, rim);
        for (ptrdiff_t i = 0; i < h2; i++) {
            uint16_t *r0 = raw + 2 * i * w, *r1 = r0 + w;
            int any = 0;
            for (ptrdiff_t j = 0; j < w2; j++) { /* vectorised: which blocks have a site above its start */
                bright[j] = (r0[2 * j] > s0) | (r0[2 * j + 1] > s1) | (r1[2 * j] > s2) | (r1[2 * j + 1] > s3);
                any |= bright[j];
            }
            if (!any)
                continue;
            for (ptrdiff_t j = 0; j < w2; j++) {
                if (!bright[j])
                    continue;
                const uint16_t in[4] = {r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]};
                uint16_t out[4];
                if (block(P, in, with_rims && rim[i * w2 + j], out))
                    r0[2 * j] = out[0], r0[2 * j + 1] = out[1], r1[2 * j] = out[2], r1[2 * j + 1] = out[3];
            }
        }
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&rows);
    PyBuffer_Release(&params);
    PyBuffer_Release(&scratch);
    return result;
}

static PyObject *py_rolloff(PyObject *self, PyObject *args)
{
    Py_buffer in, out;
    double top, knee, white;
    if (!PyArg_ParseTuple(args, "y*w*ddd", &in, &out, &top, &knee, &white))
        return NULL;
    PyObject *result = NULL;
    if (in.len != out.len || in.len % 8) {
        PyErr_SetString(PyExc_ValueError, "rolloff: two float64 buffers of one size");
    } else {
        const double *m = in.buf;
        double *f = out.buf;
        for (Py_ssize_t k = 0; k < in.len / 8; k++)
            f[k] = rolloff(m[k], top, knee, white);
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"apply", py_apply, METH_VARARGS,
     "apply(rows, h, w, params, with_rims, scratch): the stage on a uint16 mosaic band, in place; params: the "
     "frame's float64 constants (highlights.py); scratch: h/2 * w/2 + w/2 bytes"},
    {"rolloff", py_rolloff, METH_VARARGS, "rolloff(m, out, top, knee, white): the soft knee on float64 values"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_highlights", NULL, -1, methods};

PyMODINIT_FUNC PyInit__highlights(void) { return PyModule_Create(&module); }
