/* dataset.h: the one description every dataset reader yields — samples (frame, labels, boxes, time order) and classes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

#define DS_IGNORE 255 /* label-map value meaning "no ground truth here" (CamVid void, Cityscapes unlabeled) */

/* One object box in pixels of the full frame: [x0, x1) x [y0, y1), so w = x1 - x0. */
typedef struct Box {
    int cls;              /* 0..nclasses-1; -1 for an ignored region that has no class */
    float x0, y0, x1, y1;
    bool ignore;          /* VisDrone ignored region / "others", COCO iscrowd: neither a hit nor a miss */
} Box;

typedef struct Sample {
    char *frame;          /* image path (the HR image of an SR pair) */
    char *label;          /* label-map path (8-bit ids, remapped by Dataset.label_lut on load) or NULL */
    char *lr;             /* LR image path of an SR pair, or NULL */
    Box *boxes;           /* [nboxes], NULL when none */
    int nboxes;
    int w, h;             /* frame size when known without decoding (COCO JSON, probed header); else 0 */
    char *seq;            /* sequence name ("0001TP", "Seq05VD"); frames of one video share it */
    int index;            /* frame number inside the sequence: samples are sorted by (seq, index) */
    long id;              /* COCO image id (coco JSON); -1 = none (results files then derive one: det_coco_results.h) */
} Sample;

typedef struct Dataset {
    char *name;           /* "camvid/train", for messages */
    Sample *samples;      /* [n] */
    int n, cap;
    char **class_names;   /* [nclasses] */
    long *class_ids;      /* [nclasses] COCO category ids (coco JSON: 1..90 with gaps); NULL = the class index */
    int nclasses;
    uint8_t label_lut[256]; /* raw label value -> train id (DS_IGNORE = ignore); identity by default */
    int scale;            /* SR pairs: HR side = scale x LR side; 0 otherwise */
} Dataset;

/* ---- readers: each fills *out (overwritten) and returns 0, or -1 with rn_errmsg() naming the file
 * and, for annotation text, the line. ---- */

/* CamVid, SegNet layout: ROOT/{train,val,test}.txt lists "image label" pairs (paths relative to
 * ROOT; absolute SegNet paths are resolved by their last two components). 11 classes, 11 = void. */
int ds_camvid(const char *root, const char *split, Dataset *out);
/* Cityscapes: ROOT/leftImg8bit/SPLIT/CITY/X_leftImg8bit.png with ROOT/gtFine/SPLIT/CITY/
 * X_gtFine_labelIds.png (labels optional for split "test"); 19 train ids, the rest DS_IGNORE. */
int ds_cityscapes(const char *root, const char *split, Dataset *out);
/* COCO detection JSON; images are IMG_DIR/file_name. Category ids -> 0..K-1 in id order; iscrowd
 * -> ignore boxes. */
int ds_coco(const char *json_path, const char *img_dir, Dataset *out);
/* YOLO txt: IMG_DIR/X.jpg with LABEL_DIR/X.txt ("cls cx cy w h", normalised; a missing file = no
 * boxes). NAMES: darknet .names (one per line) or a YOLO .yaml with a `names:` map; NULL -> classes
 * named by number, as many as the largest id + 1. */
int ds_yolo(const char *img_dir, const char *label_dir, const char *names, Dataset *out);
/* VisDrone-DET: ANN_DIR/X.txt ("left,top,w,h,score,category,truncation,occlusion"). Classes 1..10
 * -> 0..9; category 0 (ignored region) and 11 ("others") -> ignore boxes with cls -1, as the
 * VisDrone toolkit treats both. With IMG_DIR, one sample per image that has an annotation file (an
 * image named PREFIX_X.jpg matches X.txt); with IMG_DIR NULL, one sample per annotation file and
 * frame NULL (box statistics only). */
int ds_visdrone(const char *img_dir, const char *ann_dir, Dataset *out);
/* SR pairs: DIR/image_SRF_<scale>/ (or DIR itself) holding NAME_HR.png + NAME_LR.png, or DIR/HR/
 * and DIR/LR/ holding the same file names. Sizes are checked when loaded (dataset_load_lr). */
int ds_srpairs(const char *dir, int scale, Dataset *out);
/* A plain folder of frames (.png/.jpg/.jpeg) sorted by name = one video (seq = folder name). */
int ds_frames(const char *dir, Dataset *out);

/* ---- the one door: a dataset by kind ---- */
/* coco128's split (yolo kind): by sorted image name, "train" = the first DET_TRAIN_IMAGES, "eval" =
 * the rest (32 of coco128's 128). */
#define DET_TRAIN_IMAGES 96
/* Opens ROOT as a dataset of KIND into *out:
 *   camvid, cityscapes  split SPLIT (train, val, test) of ds_camvid / ds_cityscapes;
 *   frames    HR frames: a CamVid-style root (SPLIT.txt, else the first of train.txt, test.txt,
 *             val.txt it has: the embedded samples ship test.txt alone) or a plain folder of frames;
 *   yolo      ROOT/images (else ROOT) with ROOT/labels, class names from ROOT/config.yaml or the
 *             first .names/.yaml in ROOT. SPLIT NULL or "": every image in the reader's order;
 *             "all", "train", "eval": sorted by image name, "train"/"eval" coco128's split;
 *   coco      the first .json in ROOT (or ANN), images in ROOT/images or ROOT;
 *   visdrone  images in ROOT/images or ROOT, annotations in ROOT/annotations-val, else
 *             ROOT/annotations (or ANN).
 * coco and visdrone have no split (NULL, "" or "all"). ANN (NULL = the usual place) is for coco and
 * visdrone only. -1 with rn_errmsg() naming the kind or the folder. */
int dataset_open(const char *kind, const char *root, const char *split, Dataset *out);
int dataset_open_ann(const char *kind, const char *root, const char *split, const char *ann, Dataset *out);

/* ---- annotation parsers over memory (the readers use them; so does fuzz/fuzz_annotations.c).
 * NAME is the file name used in messages, which say "NAME:LINE: ...". ---- */
/* COCO JSON -> *out (overwritten): samples (frame = IMG_DIR/file_name, size, boxes) in the JSON's image order, and classes.
 * Its messages name the element instead of a line ("NAME: annotations[12]: ..."), and malformed JSON "NAME:LINE:COL: ...". */
int coco_parse(const char *text, size_t len, const char *name, const char *img_dir, Dataset *out);
/* YOLO lines for an image of W x H pixels; class ids must be < NCLASSES (NCLASSES <= 0: any >= 0).
 * Boxes are clipped to the image. *boxes is malloc'ed (NULL when *n = 0). */
int yolo_parse(const char *text, size_t len, const char *name, int w, int h, int nclasses, Box **boxes, int *n);
/* VisDrone-DET lines (a trailing comma is tolerated, as some published files have one). */
int visdrone_parse(const char *text, size_t len, const char *name, Box **boxes, int *n);

/* ---- pixels ---- */
/* The sample's frame as 8-bit RGB. */
int dataset_load_frame(const Dataset *ds, int i, Image *out);
/* The sample's label map (1 channel), remapped through ds->label_lut. Its size must equal the
 * frame's (checked against FRAME when given, else against the frame file's header). */
int dataset_load_label(const Dataset *ds, int i, const Image *frame, Image *out);
/* Before training on labels: every sample has a label map, and each label's size (from its
 * header) equals its frame's. Headers only (a CamVid split in well under a second), so a bad split
 * fails before any work rather than at the batch that first draws it. -1 with rn_errmsg() naming
 * the first bad file and how many label maps are bad. */
int dataset_check_labels(const Dataset *ds);
/* The LR image of an SR pair as RGB; HR must be exactly scale x LR (checked against HR when given,
 * else against the HR file's header). */
int dataset_load_lr(const Dataset *ds, int i, const Image *hr, Image *out);
/* The sample's frame as detection ASR and Table 6 use it: the whole image resized (MATLAB bicubic,
 * aspect ratio not kept, as darknet feeds Yolo-Fastest without letterbox) to size x size RGB. Its
 * boxes, ignored regions and empty boxes dropped, normalised to [0,1] (unchanged by the resize), go
 * to *boxes (malloc'ed, NULL when none; boxes may be NULL when not wanted). */
int dataset_load_square(const Dataset *ds, int i, int size, Image *out, Box **boxes, int *nboxes);
/* Width/height from a PNG or JPEG header without decoding. */
int image_probe(const char *path, int *w, int *h);

/* ---- bookkeeping ---- */
void dataset_free(Dataset *ds);
/* Index of the first sample of sequence SEQ (samples of a sequence are contiguous), or -1;
 * *count gets its length. */
int dataset_sequence(const Dataset *ds, const char *seq, int *count);
/* Total box count over all samples. */
int dataset_nboxes(const Dataset *ds);

/* ---- for readers (data/ds_*.c) ---- */
void dataset_init(Dataset *ds, const char *name);
Sample *dataset_add(Dataset *ds, const char *frame);  /* appends a zeroed sample (id -1) with frame path */
void dataset_set_classes(Dataset *ds, const char *const *names, int n);
void dataset_sort_time(Dataset *ds);                  /* stable sort by (seq, index) */
void box_push(Box **boxes, int *n, int *cap, Box b);
/* Whole file into a NUL-terminated buffer (*len without the NUL). */
int read_text_file(const char *path, char **text, size_t *len);
/* Sorted file names in DIR whose names end with one of the comma-separated suffixes ("" = any),
 * hidden files skipped. */
int list_dir(const char *dir, const char *suffixes, char ***names, int *n);
void free_names(char **names, int n);
/* Next line of text[0..len) from *pos into buf[cap] (NUL-terminated, a final '\r' dropped): 1, or 0 at
 * the end, or -1 naming NAME:LINENO when the line is too long or holds a NUL byte. */
int text_line(const char *text, size_t len, size_t *pos, char *buf, size_t cap, const char *name, int lineno);
char *path_join(const char *a, const char *b); /* malloc'ed "a/b" */
bool path_exists(const char *path);
bool is_dir(const char *path);
/* Splits NAME ("0001TP_006690.png", "Seq05VD_f00030.png") at its last '_' into a sequence name and
 * the frame number (digits after the '_', skipping letters); false when there is no such split. */
bool parse_seq_frame(const char *name, char **seq, int *index);
