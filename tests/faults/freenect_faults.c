/* A libfreenect whose USB device fails on purpose, for depthview's fault tests.
 *
 * Built by tests/test_kinect_faults.py and loaded as the library itself
 * (DEPTHVIEW_LIBFREENECT=.../libfreenect-faults.so). It depends on Debian's fakenect
 * (DT_NEEDED, found through its RUNPATH), so every call it does not define below is the real
 * fakenect's, replaying FAKENECT_PATH. (LD_PRELOAD cannot do this: ctypes looks functions up
 * with dlsym on the library's own handle, which never searches preloaded objects.)
 *
 * It looks like a real libfreenect to depthview (it has freenect_set_flag, which fakenect
 * lacks), and reports each fault as libfreenect 0.5 does: -1 from the call, the libusb error
 * in a log line through the registered log callback.
 *
 * DEPTHVIEW_FAULT chooses the fault:
 *   no-device    freenect_num_devices finds no Kinect
 *   permission   freenect_open_device fails with LIBUSB_ERROR_ACCESS (-3)
 *   busy         freenect_open_device fails with LIBUSB_ERROR_BUSY (-6)
 *   unplug:N     after N depth frames the device is dead: process_events returns -1
 *   stall:N      after N depth frames nothing more arrives; process_events waits its timeout
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

typedef void (*frame_cb)(void *dev, void *data, uint32_t timestamp);
typedef void (*log_cb)(void *ctx, int level, const char *msg);

static log_cb logger;
static void *logger_ctx;
static int log_level;
static frame_cb user_depth;
static long delivered; /* depth frames handed to the application */

static const char *fault(void) {
    const char *f = getenv("DEPTHVIEW_FAULT");
    return f ? f : "";
}

static int fault_is(const char *name) { return strncmp(fault(), name, strlen(name)) == 0; }

static long fault_after(void) {
    const char *colon = strchr(fault(), ':');
    return colon ? atol(colon + 1) : 0;
}

static void log_error(const char *msg) {
    if (logger && log_level >= 1) /* FREENECT_LOG_ERROR */
        logger(logger_ctx, 1, msg);
}

static void *real(const char *name) { return dlsym(RTLD_NEXT, name); }

void freenect_set_log_callback(void *ctx, log_cb cb) {
    logger_ctx = ctx;
    logger = cb;
}

void freenect_set_log_level(void *ctx, int level) { log_level = level; }

int freenect_set_flag(void *dev, int flag, int value) { return 0; }

int freenect_num_devices(void *ctx) {
    if (fault_is("no-device"))
        return 0;
    return ((int (*)(void *))real("freenect_num_devices"))(ctx);
}

int freenect_open_device(void *ctx, void **dev, int index) {
    if (fault_is("permission")) {
        log_error("Could not open camera: -3\n");
        return -1;
    }
    if (fault_is("busy")) {
        log_error("Failed to claim camera interface: LIBUSB_ERROR_BUSY\n");
        return -1;
    }
    return ((int (*)(void *, void **, int))real("freenect_open_device"))(ctx, dev, index);
}

static void counting_depth(void *dev, void *data, uint32_t timestamp) {
    delivered++;
    if (user_depth)
        user_depth(dev, data, timestamp);
}

void freenect_set_depth_callback(void *dev, frame_cb cb) {
    user_depth = cb;
    ((void (*)(void *, frame_cb))real("freenect_set_depth_callback"))(dev, counting_depth);
}

int freenect_process_events_timeout(void *ctx, struct timeval *timeout) {
    long n = fault_after();
    if (fault_is("unplug") && delivered >= n) {
        log_error("USB camera marked dead, stopping streams\n");
        return -1;
    }
    if (fault_is("stall") && delivered >= n) {
        struct timespec wait = {timeout->tv_sec, timeout->tv_usec * 1000L};
        nanosleep(&wait, NULL);
        return 0;
    }
    return ((int (*)(void *, struct timeval *))real("freenect_process_events_timeout"))(ctx,
                                                                                         timeout);
}
