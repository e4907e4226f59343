/*
 * depthview's test harness around libfreenect's own registration code.
 *
 * It is compiled at test time together with src/registration.c from the source of Debian's
 * libfreenect (fetched by scripts/libfreenect_source.sh, never stored in depthview), into a
 * shared library that tests/oracle/freenect_oracle.py drives through ctypes. One device
 * lives here; dvh_load fills its registration parameters as fakenect fills them from a
 * device.json (JSON numbers, i.e. doubles, assigned to the C fields) and lets libfreenect
 * build its tables. The other entry points run libfreenect's routines on that device.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "freenect_internal.h"
#include "registration.h"

#define DVH_WIDTH 640
#define DVH_HEIGHT 480
#define DVH_PIXELS (DVH_WIDTH * DVH_HEIGHT)
#define DVH_PACKED_BYTES (DVH_PIXELS * 11 / 8)

/* The parameters in the order dvh_load takes them: JSON key, C field. */
#define DVH_FIELDS(X)                                                   \
    X("reg_info.ax", reg_info.ax)                                       \
    X("reg_info.bx", reg_info.bx)                                       \
    X("reg_info.cx", reg_info.cx)                                       \
    X("reg_info.dx", reg_info.dx)                                       \
    X("reg_info.ay", reg_info.ay)                                       \
    X("reg_info.by", reg_info.by)                                       \
    X("reg_info.cy", reg_info.cy)                                       \
    X("reg_info.dy", reg_info.dy)                                       \
    X("reg_info.dx_start", reg_info.dx_start)                           \
    X("reg_info.dy_start", reg_info.dy_start)                           \
    X("reg_info.dx_beta_start", reg_info.dx_beta_start)                 \
    X("reg_info.dy_beta_start", reg_info.dy_beta_start)                 \
    X("reg_info.dx_beta_inc", reg_info.dx_beta_inc)                     \
    X("reg_info.dy_beta_inc", reg_info.dy_beta_inc)                     \
    X("reg_info.dxdx_start", reg_info.dxdx_start)                       \
    X("reg_info.dxdy_start", reg_info.dxdy_start)                       \
    X("reg_info.dydx_start", reg_info.dydx_start)                       \
    X("reg_info.dydy_start", reg_info.dydy_start)                       \
    X("reg_info.dxdxdx_start", reg_info.dxdxdx_start)                   \
    X("reg_info.dydxdx_start", reg_info.dydxdx_start)                   \
    X("reg_info.dxdxdy_start", reg_info.dxdxdy_start)                   \
    X("reg_info.dydxdy_start", reg_info.dydxdy_start)                   \
    X("reg_info.dydydx_start", reg_info.dydydx_start)                   \
    X("reg_info.dydydy_start", reg_info.dydydy_start)                   \
    X("reg_info.pad_info.start_lines", reg_pad_info.start_lines)        \
    X("reg_info.pad_info.end_lines", reg_pad_info.end_lines)            \
    X("reg_info.pad_info.cropping_lines", reg_pad_info.cropping_lines)  \
    X("reg_info.zero_plane_info.dcmos_emitter_distance",                \
      zero_plane_info.dcmos_emitter_dist)                               \
    X("reg_info.zero_plane_info.dcmos_rcmos_distance",                  \
      zero_plane_info.dcmos_rcmos_dist)                                 \
    X("reg_info.zero_plane_info.reference_distance",                    \
      zero_plane_info.reference_distance)                               \
    X("reg_info.zero_plane_info.reference_pixel_size",                  \
      zero_plane_info.reference_pixel_size)                             \
    X("const_shift", const_shift)

#define DVH_NAME(key, field) key ","
#define DVH_ASSIGN(key, field) device.registration.field = values[i++];

static freenect_device device; /* only .registration is used */
static uint8_t packed_scratch[DVH_PACKED_BYTES];

/* The JSON keys dvh_load expects, comma-separated, so the caller can check the order. */
const char *dvh_fields(void) { return DVH_FIELDS(DVH_NAME); }

/* The device, for handing to the installed libfreenect's exported calls. */
freenect_device *dvh_device(void) { return &device; }

/* sizeof(freenect_registration) and the offsets of its members, to check ctypes layouts. */
void dvh_registration_layout(size_t *out)
{
    out[0] = sizeof(freenect_registration);
    out[1] = offsetof(freenect_registration, reg_pad_info);
    out[2] = offsetof(freenect_registration, zero_plane_info);
    out[3] = offsetof(freenect_registration, const_shift);
    out[4] = offsetof(freenect_registration, raw_to_mm_shift);
    out[5] = offsetof(freenect_registration, depth_to_rgb_shift);
    out[6] = offsetof(freenect_registration, registration_table);
}

int dvh_load(const double *values)
{
    int i = 0;
    DVH_FIELDS(DVH_ASSIGN)
    return freenect_init_registration(&device);
}

/* libfreenect's tables as built for the loaded parameters. */
void dvh_tables(uint16_t *raw_to_mm, int32_t *depth_to_rgb, int32_t *registration_table)
{
    freenect_registration *r = &device.registration;
    memcpy(raw_to_mm, r->raw_to_mm_shift, sizeof(uint16_t) * FREENECT_DEPTH_RAW_MAX_VALUE);
    memcpy(depth_to_rgb, r->depth_to_rgb_shift, sizeof(int32_t) * FREENECT_DEPTH_MM_MAX_VALUE);
    memcpy(registration_table, r->registration_table, sizeof(int32_t) * 2 * DVH_PIXELS);
}

/* 11-bit values to the Kinect's packed stream: each value's bits most significant first. */
void dvh_pack(const uint16_t *depth, uint8_t *packed)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t out = 0;
    for (size_t p = 0; p < DVH_PIXELS; p++) {
        acc = (acc << 11) | (depth[p] & 0x7FFu);
        bits += 11;
        while (bits >= 8) {
            bits -= 8;
            packed[out++] = (uint8_t)(acc >> bits);
        }
        acc &= (1u << bits) - 1u;
    }
}

/* FREENECT_DEPTH_MM of an unpacked 11-bit frame. */
int dvh_depth_mm(const uint16_t *depth, uint16_t *out_mm)
{
    dvh_pack(depth, packed_scratch);
    return freenect_apply_depth_to_mm(&device, packed_scratch, out_mm);
}

/* FREENECT_DEPTH_REGISTERED of an unpacked 11-bit frame. */
int dvh_registered(const uint16_t *depth, uint16_t *out_mm)
{
    dvh_pack(depth, packed_scratch);
    return freenect_apply_registration(&device, packed_scratch, out_mm);
}

/* FREENECT_DEPTH_REGISTERED of a packed frame, exactly as the device path runs it. */
int dvh_registered_packed(uint8_t *packed, uint16_t *out_mm)
{
    return freenect_apply_registration(&device, packed, out_mm);
}

/* freenect_map_rgb_to_depth; out_rgb is left as given where libfreenect does not write. */
void dvh_map_rgb_to_depth(uint16_t *depth_mm, uint8_t *rgb, uint8_t *out_rgb)
{
    freenect_map_rgb_to_depth(&device, depth_mm, rgb, out_rgb);
}

void dvh_camera_to_world(int cx, int cy, int wz, double *wx, double *wy)
{
    freenect_camera_to_world(&device, cx, cy, wz, wx, wy);
}
