/* Pictures. The curve and the confusion matrix are drawn once, against a
 * small canvas interface with two back ends: pixels (PNG, bitmap font) and
 * SVG (real text). Coordinates are pixels, y down, in both. */
#include "vgg/plot.h"
#include "vgg/output.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/font.h"

/* ---- canvas ---------------------------------------------------------- */

typedef struct canvas {
    vgg_image *img; /* pixel back end, or */
    FILE *svg;      /* SVG back end (out.f) */
    vgg_output out;
} canvas;

enum { ALIGN_LEFT, ALIGN_CENTRE, ALIGN_RIGHT };

static const uint8_t WHITE[3] = {255, 255, 255};
static const uint8_t INK[3] = {34, 34, 34};
static const uint8_t AXIS[3] = {90, 90, 90};
static const uint8_t GRID[3] = {228, 228, 228};
static const uint8_t TRAIN[3] = {31, 119, 180}; /* blue */
static const uint8_t TEST[3] = {255, 127, 14};  /* orange */

static void px_put(vgg_image *img, int x, int y, const uint8_t c[3]) {
    if (x < 0 || y < 0 || x >= img->width || y >= img->height) return;
    uint8_t *p = img->rgb + ((size_t)y * img->width + x) * 3;
    p[0] = c[0];
    p[1] = c[1];
    p[2] = c[2];
}

static void svg_escaped(FILE *f, const char *s) {
    for (; *s; s++) switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(isprint((unsigned char)*s) ? *s : '?', f);
        }
}

static void cv_rect(canvas *cv, int x, int y, int w, int h,
                    const uint8_t c[3]) {
    if (cv->svg) {
        fprintf(cv->svg,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                "fill=\"#%02x%02x%02x\"/>\n",
                x, y, w, h, c[0], c[1], c[2]);
        return;
    }
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++) px_put(cv->img, i, j, c);
}

/* Outline of a rectangle whose pixels span x..x+w-1, y..y+h-1. */
static void cv_frame(canvas *cv, int x, int y, int w, int h,
                     const uint8_t c[3]) {
    if (cv->svg) {
        fprintf(cv->svg,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
                "fill=\"none\" stroke=\"#%02x%02x%02x\"/>\n",
                x + 0.5, y + 0.5, w - 1, h - 1, c[0], c[1], c[2]);
        return;
    }
    cv_rect(cv, x, y, w, 1, c);
    cv_rect(cv, x, y + h - 1, w, 1, c);
    cv_rect(cv, x, y, 1, h, c);
    cv_rect(cv, x + w - 1, y, 1, h, c);
}

/* A line width px wide (Bresenham with a square brush). */
static void cv_line(canvas *cv, double x0, double y0, double x1, double y1,
                    const uint8_t c[3], int width) {
    if (cv->svg) {
        fprintf(cv->svg,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                "stroke=\"#%02x%02x%02x\" stroke-width=\"%d\" "
                "stroke-linecap=\"round\"/>\n",
                x0, y0, x1, y1, c[0], c[1], c[2], width);
        return;
    }
    int ax = (int)lround(x0), ay = (int)lround(y0);
    int bx = (int)lround(x1), by = (int)lround(y1);
    int dx = abs(bx - ax), dy = -abs(by - ay);
    int sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1, e = dx + dy;
    int lo = -(width - 1) / 2, hi = width / 2;
    for (;;) {
        for (int j = lo; j <= hi; j++)
            for (int i = lo; i <= hi; i++) px_put(cv->img, ax + i, ay + j, c);
        if (ax == bx && ay == by) break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            ax += sx;
        }
        if (e2 <= dx) {
            e += dx;
            ay += sy;
        }
    }
}

static void cv_disc(canvas *cv, double x, double y, int r, const uint8_t c[3]) {
    if (cv->svg) {
        fprintf(cv->svg,
                "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%d\" "
                "fill=\"#%02x%02x%02x\"/>\n",
                x, y, r, c[0], c[1], c[2]);
        return;
    }
    int cx = (int)lround(x), cy = (int)lround(y);
    for (int j = -r; j <= r; j++)
        for (int i = -r; i <= r; i++)
            if (i * i + j * j <= r * r + r) px_put(cv->img, cx + i, cy + j, c);
}

/* Text whose cell top is y; x is its left edge, centre or right edge. The
 * SVG font size matches the bitmap font's cell height. */
static void cv_text(canvas *cv, int x, int y, const char *s, const uint8_t c[3],
                    int scale, int align) {
    if (cv->svg) {
        static const char *anchor[] = {"start", "middle", "end"};
        fprintf(cv->svg,
                "<text x=\"%d\" y=\"%d\" font-size=\"%d\" "
                "text-anchor=\"%s\" fill=\"#%02x%02x%02x\">",
                x, y + VGG_FONT_ASCENT * scale, VGG_FONT_LINE * scale,
                anchor[align], c[0], c[1], c[2]);
        svg_escaped(cv->svg, s);
        fputs("</text>\n", cv->svg);
        return;
    }
    int w = vgg_font_text_width(s, scale);
    int left = align == ALIGN_LEFT     ? x
               : align == ALIGN_CENTRE ? x - w / 2
                                       : x - w;
    vgg_font_draw(cv->img, left, y, s, c, scale);
}

/* Text read upwards; x is the left edge of the (turned) glyphs, y the
 * bottom (ALIGN_LEFT) or the centre (ALIGN_CENTRE) of the text. */
static void cv_text_up(canvas *cv, int x, int y, const char *s,
                       const uint8_t c[3], int scale, int align) {
    if (cv->svg) {
        int bx = x + VGG_FONT_ASCENT * scale;
        fprintf(cv->svg,
                "<text x=\"%d\" y=\"%d\" font-size=\"%d\" "
                "text-anchor=\"%s\" transform=\"rotate(-90 %d %d)\" "
                "fill=\"#%02x%02x%02x\">",
                bx, y, VGG_FONT_LINE * scale,
                align == ALIGN_CENTRE ? "middle" : "start", bx, y, c[0], c[1],
                c[2]);
        svg_escaped(cv->svg, s);
        fputs("</text>\n", cv->svg);
        return;
    }
    int w = vgg_font_text_width(s, scale);
    vgg_font_draw_up(cv->img, x, align == ALIGN_CENTRE ? y + w / 2 : y, s, c,
                     scale);
}

static vgg_status svg_begin(canvas *cv, const char *path, int w, int h,
                            vgg_error *err) {
    cv->img = NULL;
    cv->svg = NULL;
    vgg_status st =
        vgg_output_open(&cv->out, path, "SVG", VGG_OUTPUT_REPLACE, err);
    if (st) return st;
    cv->svg = cv->out.f;
    fprintf(cv->svg,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
            w, h, w, h);
    return VGG_OK;
}

static vgg_status svg_end(canvas *cv, vgg_error *err) {
    fputs("</svg>\n", cv->svg);
    cv->svg = NULL;
    return vgg_output_close(&cv->out, err);
}

static vgg_status write_png_and_free(const char *path, vgg_image *img,
                                     vgg_status st, vgg_error *err) {
    if (!st) st = vgg_png_write(path, img, err);
    vgg_image_free(img);
    return st;
}

/* ---- samples grid ----------------------------------------------------- */

static int label_scale(int scale) { return scale >= 4 ? 2 : 1; }

void vgg_grid_layout_init(vgg_grid_layout *g, int n, int cols, int scale) {
    if (cols < 1) cols = 1;
    if (cols > n && n > 0) cols = n;
    g->n = n;
    g->cols = cols;
    g->rows = n > 0 ? (n + cols - 1) / cols : 0;
    g->scale = scale;
    g->tile = VGG_CIFAR_SIDE * scale;
    g->pad = scale >= 3 ? 2 * scale : 6;
    g->label_h = VGG_FONT_LINE * label_scale(scale) + 4;
    g->width = g->pad + cols * (g->tile + g->pad);
    g->height = g->pad + g->rows * (g->tile + g->label_h + g->pad);
}

void vgg_grid_tile_origin(const vgg_grid_layout *g, int i, int *x, int *y) {
    *x = g->pad + (i % g->cols) * (g->tile + g->pad);
    *y = g->pad + (i / g->cols) * (g->tile + g->label_h + g->pad);
}

vgg_status vgg_plot_samples_image(vgg_image *out, const vgg_dataset *ds,
                                  const int *idx, const vgg_augment_choice *ch,
                                  int n, int cols, int scale, vgg_error *err) {
    out->rgb = NULL;
    out->width = out->height = 0;
    if (n < 1 || cols < 1 || scale < 1 || scale > 16)
        return vgg_fail(err, VGG_ERR_ARG,
                        "samples grid: %d images, %d a row, scale %d; "
                        "expected at least 1 image and 1 a row, scale 1 to "
                        "16",
                        n, cols, scale);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= ds->n)
            return vgg_fail(err, VGG_ERR_ARG,
                            "samples grid: image index %d (entry %d) is "
                            "outside the data set's %d images",
                            idx[i], i, ds->n);
    vgg_grid_layout g;
    vgg_grid_layout_init(&g, n, cols, scale);
    vgg_status st = vgg_image_init(out, g.width, g.height, 255, 255, 255, err);
    if (st) return st;
    canvas cv = {.img = out};
    const int S = VGG_CIFAR_SIDE, ls = label_scale(scale);
    /* a name may use the tile's width and the gap to the next one */
    int maxch = (g.tile + g.pad + 1) / (VGG_FONT_ADVANCE * ls);
    uint8_t px[VGG_CIFAR_PIXELS];
    for (int i = 0; i < n; i++) {
        vgg_augment_pixels(px, ds->pixels + (size_t)idx[i] * VGG_CIFAR_PIXELS,
                           ch ? &ch[i] : NULL);
        int x0, y0;
        vgg_grid_tile_origin(&g, i, &x0, &y0);
        for (int y = 0; y < g.tile; y++)
            for (int x = 0; x < g.tile; x++) {
                int s = (y / scale) * S + x / scale;
                uint8_t *p =
                    out->rgb + ((size_t)(y0 + y) * g.width + x0 + x) * 3;
                p[0] = px[s];
                p[1] = px[S * S + s];
                p[2] = px[2 * S * S + s];
            }
        int label = ds->labels[idx[i]];
        char name[VGG_CLASS_NAME_MAX + 8];
        if (label < VGG_CIFAR_MAX_CLASSES && ds->class_names[label][0])
            snprintf(name, sizeof name, "%s", ds->class_names[label]);
        else
            snprintf(name, sizeof name, "class %d", label);
        if ((int)strlen(name) > maxch && maxch >= 0) name[maxch] = 0;
        cv_text(&cv, x0 + g.tile / 2, y0 + g.tile + 3, name, INK, ls,
                ALIGN_CENTRE);
    }
    return VGG_OK;
}

vgg_status vgg_plot_samples(const char *path, const vgg_dataset *ds,
                            const int *idx, const vgg_augment_choice *ch, int n,
                            int cols, int scale, vgg_error *err) {
    vgg_image img;
    vgg_status st =
        vgg_plot_samples_image(&img, ds, idx, ch, n, cols, scale, err);
    return write_png_and_free(path, &img, st, err);
}

/* ---- learning curves --------------------------------------------------- */

/* 1, 2 or 5 times a power of ten, near span / target. */
static double nice_step(double span, int target) {
    if (!(span > 0.0)) span = 1.0;
    double raw = span / target;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * mag;
}

static void tick_label(char *buf, size_t n, double v, double step) {
    int d = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6) v = 0.0; /* no "-0.0" */
    snprintf(buf, n, "%.*f", d, v);
}

typedef struct panel {
    int x, y, w, h; /* plot area */
    double x0, x1, y0, y1, ystep, xstep;
} panel;

static double px_x(const panel *p, double v) {
    return p->x + (v - p->x0) / (p->x1 - p->x0) * (p->w - 1);
}
static double px_y(const panel *p, double v) {
    return p->y + p->h - 1 - (v - p->y0) / (p->y1 - p->y0) * (p->h - 1);
}

/* Draws one panel: frame, grid, ticks, labels, and the two series
 * (values a[i], b[i] at epochs ep[i]). */
static void draw_panel(canvas *cv, const panel *p, const char *title,
                       const char *ylabel, const int *ep, const double *a,
                       const double *b, int n) {
    const int ts = 2;
    char buf[32];
    /* grid and y ticks */
    for (int k = 0;; k++) {
        double v = p->y0 + k * p->ystep;
        if (v > p->y1 + p->ystep * 1e-6) break;
        int y = (int)lround(px_y(p, v));
        cv_rect(cv, p->x, y, p->w, 1, GRID);
        cv_rect(cv, p->x - 6, y, 6, 1, AXIS);
        tick_label(buf, sizeof buf, v, p->ystep);
        cv_text(cv, p->x - 10, y - VGG_FONT_ASCENT * ts / 2, buf, INK, ts,
                ALIGN_RIGHT);
    }
    for (double v = ceil(p->x0 / p->xstep) * p->xstep; v <= p->x1 + 1e-9;
         v += p->xstep) {
        int x = (int)lround(px_x(p, v));
        cv_rect(cv, x, p->y, 1, p->h, GRID);
        cv_rect(cv, x, p->y + p->h, 1, 6, AXIS);
        snprintf(buf, sizeof buf, "%.0f", v);
        cv_text(cv, x, p->y + p->h + 10, buf, INK, ts, ALIGN_CENTRE);
    }
    cv_frame(cv, p->x, p->y, p->w, p->h, AXIS);
    cv_text(cv, p->x + p->w / 2, p->y + p->h + 10 + VGG_FONT_LINE * ts + 4,
            "epoch", INK, ts, ALIGN_CENTRE);
    cv_text_up(cv, p->x - 90, p->y + p->h / 2, ylabel, INK, ts, ALIGN_CENTRE);
    cv_text(cv, p->x, p->y - 12 - VGG_FONT_LINE * ts, title, INK, ts,
            ALIGN_LEFT);
    /* legend, right-aligned in the title row */
    int lx = p->x + p->w - vgg_font_text_width("test", ts);
    int ly = p->y - 12 - VGG_FONT_LINE * ts;
    cv_text(cv, lx, ly, "test", INK, ts, ALIGN_LEFT);
    cv_line(cv, lx - 30, ly + 7, lx - 8, ly + 7, TEST, 3);
    lx -= 50 + vgg_font_text_width("train", ts);
    cv_text(cv, lx, ly, "train", INK, ts, ALIGN_LEFT);
    cv_line(cv, lx - 30, ly + 7, lx - 8, ly + 7, TRAIN, 3);
    /* series */
    const double *series[2] = {a, b};
    const uint8_t *colour[2] = {TRAIN, TEST};
    for (int s = 0; s < 2; s++) {
        const double *v = series[s];
        for (int i = 0; i + 1 < n; i++)
            if (isfinite(v[i]) && isfinite(v[i + 1]))
                cv_line(cv, px_x(p, ep[i]), px_y(p, v[i]), px_x(p, ep[i + 1]),
                        px_y(p, v[i + 1]), colour[s], 2);
        if (n <= 40)
            for (int i = 0; i < n; i++)
                if (isfinite(v[i]))
                    cv_disc(cv, px_x(p, ep[i]), px_y(p, v[i]), 3, colour[s]);
    }
}

/* Value range [lo, hi] over finite values, or fallback if there are none. */
static void finite_range(const double *a, const double *b, int n, double *lo,
                         double *hi) {
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (isfinite(a[i])) {
            *lo = fmin(*lo, a[i]);
            *hi = fmax(*hi, a[i]);
        }
        if (isfinite(b[i])) {
            *lo = fmin(*lo, b[i]);
            *hi = fmax(*hi, b[i]);
        }
    }
}

static vgg_status draw_curve(canvas *cv, const vgg_epoch_record *rec, int n,
                             vgg_error *err) {
    int *ep = malloc((size_t)n * sizeof *ep);
    double *v = malloc((size_t)n * 4 * sizeof *v);
    if (!ep || !v) {
        free(ep);
        free(v);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "learning curve: cannot allocate %d epochs", n);
    }
    double *trl = v, *tel = v + n, *tra = v + 2 * n, *tea = v + 3 * n;
    int emin = rec[0].epoch, emax = rec[0].epoch;
    for (int i = 0; i < n; i++) {
        ep[i] = rec[i].epoch;
        if (ep[i] < emin) emin = ep[i];
        if (ep[i] > emax) emax = ep[i];
        trl[i] = rec[i].train_loss;
        tel[i] = rec[i].test_loss;
        tra[i] = 100.0 * rec[i].train_acc;
        tea[i] = 100.0 * rec[i].test_acc;
    }
    const int W = VGG_CURVE_WIDTH, H = VGG_CURVE_HEIGHT;
    cv_rect(cv, 0, 0, W, H, WHITE);
    panel p = {0};
    p.y = 50;
    p.w = W / 2 - 140;
    p.h = H - p.y - 70;
    /* a little room left and right, so end points are off the frame */
    double margin = emax > emin ? 0.03 * (emax - emin) : 0.5;
    p.x0 = emin - margin;
    p.x1 = emax + margin;
    p.xstep = fmax(1.0, nice_step(emax - emin, 8));

    /* loss: from 0 up */
    double lo, hi;
    finite_range(trl, tel, n, &lo, &hi);
    if (!(hi > 0.0)) hi = 1.0;
    p.ystep = nice_step(hi, 5);
    p.y0 = 0.0;
    p.y1 = ceil(hi / p.ystep - 1e-9) * p.ystep;
    p.x = 110;
    draw_panel(cv, &p, "Loss", "cross-entropy", ep, trl, tel, n);

    /* accuracy in percent, the data's range widened to ticks, within
     * [0, 100] */
    finite_range(tra, tea, n, &lo, &hi);
    if (!isfinite(lo)) {
        lo = 0.0;
        hi = 100.0;
    }
    p.ystep = nice_step(fmax(hi - lo, 1.0), 5);
    p.y0 = fmax(0.0, floor(lo / p.ystep + 1e-9) * p.ystep);
    p.y1 = fmin(100.0, ceil(hi / p.ystep - 1e-9) * p.ystep);
    if (p.y1 <= p.y0) p.y1 = fmin(100.0, p.y0 + p.ystep);
    if (p.y1 <= p.y0) p.y0 = p.y1 - p.ystep;
    p.x = W / 2 + 110;
    draw_panel(cv, &p, "Accuracy", "accuracy (%)", ep, tra, tea, n);
    free(ep);
    free(v);
    return VGG_OK;
}

static vgg_status check_records(const vgg_epoch_record *rec, int n,
                                const char *path, vgg_error *err) {
    if (!rec || n < 1)
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: no epochs to plot; expected at least one", path);
    return VGG_OK;
}

vgg_status vgg_plot_curve_image(vgg_image *out, const vgg_epoch_record *rec,
                                int n, vgg_error *err) {
    out->rgb = NULL;
    vgg_status st = check_records(rec, n, "learning curve", err);
    if (!st)
        st = vgg_image_init(out, VGG_CURVE_WIDTH, VGG_CURVE_HEIGHT, 255, 255,
                            255, err);
    if (st) return st;
    canvas cv = {.img = out};
    st = draw_curve(&cv, rec, n, err);
    if (st) vgg_image_free(out);
    return st;
}

vgg_status vgg_plot_curve_png(const char *path, const vgg_epoch_record *rec,
                              int n, vgg_error *err) {
    vgg_status st = check_records(rec, n, path, err);
    if (st) return st;
    vgg_image img;
    st = vgg_plot_curve_image(&img, rec, n, err);
    return write_png_and_free(path, &img, st, err);
}

vgg_status vgg_plot_curve_svg(const char *path, const vgg_epoch_record *rec,
                              int n, vgg_error *err) {
    vgg_status st = check_records(rec, n, path, err);
    if (st) return st;
    canvas cv;
    st = svg_begin(&cv, path, VGG_CURVE_WIDTH, VGG_CURVE_HEIGHT, err);
    if (st) return st;
    st = draw_curve(&cv, rec, n, err);
    if (st) {
        vgg_output_abort(&cv.out);
        return st;
    }
    return svg_end(&cv, err);
}

static int ends_with_svg(const char *path) {
    size_t n = strlen(path);
    if (n < 4) return 0;
    const char *e = path + n - 4;
    return e[0] == '.' && tolower((unsigned char)e[1]) == 's' &&
           tolower((unsigned char)e[2]) == 'v' &&
           tolower((unsigned char)e[3]) == 'g';
}

vgg_status vgg_plot_curve(const char *path, const vgg_epoch_record *rec, int n,
                          vgg_error *err) {
    return ends_with_svg(path) ? vgg_plot_curve_svg(path, rec, n, err)
                               : vgg_plot_curve_png(path, rec, n, err);
}

/* ---- confusion matrix -------------------------------------------------- */

/* Sequential white-to-blue scale (the end points of matplotlib's Blues). */
static void blues(uint8_t out[3], double f) {
    static const double stops[3][3] = {
        {247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
    if (!(f > 0.0)) f = 0.0;
    if (f > 1.0) f = 1.0;
    int k = f < 0.5 ? 0 : 1;
    double t = f < 0.5 ? f * 2.0 : (f - 0.5) * 2.0;
    for (int c = 0; c < 3; c++)
        out[c] =
            (uint8_t)lround(stops[k][c] + t * (stops[k + 1][c] - stops[k][c]));
}

typedef struct conf_layout {
    int cell, names_w, top, left, width, height, ts;
} conf_layout;

static void conf_layout_init(conf_layout *L, int k,
                             const char names[][VGG_CLASS_NAME_MAX]) {
    L->ts = 2;
    L->cell = 58;
    int longest = 0;
    for (int i = 0; i < k; i++) {
        int w = vgg_font_text_width(names[i], L->ts);
        if (w > longest) longest = w;
    }
    L->names_w = longest;
    /* title, "predicted", turned column names */
    L->top = 16 + 2 * (VGG_FONT_LINE * L->ts + 8) + longest + 12;
    /* "true class" turned, row names */
    L->left = 16 + VGG_FONT_LINE * L->ts + 10 + longest + 12;
    L->width =
        L->left + k * L->cell + 16 + vgg_font_text_width("100.0%", 2) + 16;
    L->height = L->top + k * L->cell + 20;
    int title_w =
        16 +
        vgg_font_text_width("Confusion matrix: 100.0% of 000000 right", 2) + 16;
    if (L->width < title_w) L->width = title_w;
}

static vgg_status draw_confusion(canvas *cv, const conf_layout *L,
                                 const int *conf, int k,
                                 const char names[][VGG_CLASS_NAME_MAX]) {
    const int ts = L->ts, cell = L->cell;
    char buf[64];
    cv_rect(cv, 0, 0, L->width, L->height, WHITE);
    long total = 0, right = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            total += conf[i * k + j];
            if (i == j) right += conf[i * k + j];
        }
    snprintf(buf, sizeof buf, "Confusion matrix: %.1f%% of %ld right",
             total ? 100.0 * right / total : 0.0, total);
    cv_text(cv, 16, 16, buf, INK, ts, ALIGN_LEFT);
    int ylab = 16 + VGG_FONT_LINE * ts + 8;
    cv_text(cv, L->left + k * cell / 2, ylab, "predicted class", INK, ts,
            ALIGN_CENTRE);
    cv_text_up(cv, 16, L->top + k * cell / 2, "true class", INK, ts,
               ALIGN_CENTRE);
    cv_text(cv, L->left + k * cell + 16, L->top - VGG_FONT_LINE * ts - 4,
            "acc.", INK, ts, ALIGN_LEFT);
    for (int j = 0; j < k; j++)
        cv_text_up(cv, L->left + j * cell + (cell - VGG_FONT_H * ts) / 2,
                   L->top - 8, names[j], INK, ts, ALIGN_LEFT);
    for (int i = 0; i < k; i++) {
        long row = 0;
        for (int j = 0; j < k; j++) row += conf[i * k + j];
        int y = L->top + i * cell;
        cv_text(cv, L->left - 12, y + (cell - VGG_FONT_ASCENT * ts) / 2,
                names[i], INK, ts, ALIGN_RIGHT);
        for (int j = 0; j < k; j++) {
            int x = L->left + j * cell;
            double f = row ? (double)conf[i * k + j] / row : 0.0;
            uint8_t bg[3];
            blues(bg, f);
            cv_rect(cv, x, y, cell, cell, bg);
            snprintf(buf, sizeof buf, "%d", conf[i * k + j]);
            int s = vgg_font_text_width(buf, ts) <= cell - 6 ? ts : 1;
            cv_text(cv, x + cell / 2, y + (cell - VGG_FONT_ASCENT * s) / 2, buf,
                    f > 0.5 ? WHITE : INK, s, ALIGN_CENTRE);
        }
        snprintf(buf, sizeof buf, "%.1f%%",
                 row ? 100.0 * conf[i * k + i] / row : 0.0);
        cv_text(cv, L->left + k * cell + 16,
                y + (cell - VGG_FONT_ASCENT * ts) / 2, buf, INK, ts,
                ALIGN_LEFT);
    }
    cv_frame(cv, L->left - 1, L->top - 1, k * cell + 2, k * cell + 2, AXIS);
    return VGG_OK;
}

static vgg_status check_confusion(const int *conf, int k,
                                  const char names[][VGG_CLASS_NAME_MAX],
                                  vgg_error *err) {
    if (!conf || !names || k < 1 || k > VGG_CIFAR_MAX_CLASSES)
        return vgg_fail(err, VGG_ERR_ARG,
                        "confusion matrix: %d classes; expected 1 to %d", k,
                        VGG_CIFAR_MAX_CLASSES);
    for (int i = 0; i < k * k; i++)
        if (conf[i] < 0)
            return vgg_fail(err, VGG_ERR_ARG,
                            "confusion matrix: cell (%d, %d) holds %d; "
                            "expected a count >= 0",
                            i / k, i % k, conf[i]);
    return VGG_OK;
}

vgg_status vgg_plot_confusion_image(vgg_image *out, const int *confusion, int k,
                                    const char names[][VGG_CLASS_NAME_MAX],
                                    vgg_error *err) {
    out->rgb = NULL;
    vgg_status st = check_confusion(confusion, k, names, err);
    if (st) return st;
    conf_layout L;
    conf_layout_init(&L, k, names);
    st = vgg_image_init(out, L.width, L.height, 255, 255, 255, err);
    if (st) return st;
    canvas cv = {.img = out};
    return draw_confusion(&cv, &L, confusion, k, names);
}

vgg_status vgg_plot_confusion(const char *path, const int *confusion, int k,
                              const char names[][VGG_CLASS_NAME_MAX],
                              vgg_error *err) {
    if (ends_with_svg(path)) {
        vgg_status st = check_confusion(confusion, k, names, err);
        if (st) return st;
        conf_layout L;
        conf_layout_init(&L, k, names);
        canvas cv;
        st = svg_begin(&cv, path, L.width, L.height, err);
        if (st) return st;
        draw_confusion(&cv, &L, confusion, k, names);
        return svg_end(&cv, err);
    }
    vgg_image img;
    vgg_status st = vgg_plot_confusion_image(&img, confusion, k, names, err);
    return write_png_and_free(path, &img, st, err);
}
