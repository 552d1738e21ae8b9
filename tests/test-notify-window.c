/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The window of Notify calls in flight (os-notify-window.h), against a bus that takes a
 * fixed number of pending calls: it finds that number, stays near it, and recovers from
 * a bus held full by calls the daemon gave up on.
 */
#include "config.h"

#include <glib.h>

#include "os-notify-window.h"

/* A bus that takes @capacity pending calls of one sender, beyond @held ones it is keeping
 * for calls the sender gave up on. It answers in rounds: all calls taken are answered at
 * the end of each round. */
typedef struct
{
  guint capacity;
  guint held;
  guint refusals;
  guint answers;
} Bus;

/* One round: the sender sends the @waiting calls while its window allows. A refused call
 * goes again (first in line), and is given up when refused a second time, as in
 * os-bus-profile.c. Returns the calls the bus took. */
static guint
round_trip (Bus *bus, OsNotifyWindow *window, guint waiting)
{
  guint in_flight = 0, taken = 0;
  gboolean head_refused = FALSE;

  while (waiting > 0 && in_flight < window->size)
    {
      if (bus->held + taken < bus->capacity)
        {
          in_flight++;
          taken++;
          waiting--;
          head_refused = FALSE;
          continue;
        }
      bus->refusals++;
      os_notify_window_refused (window, in_flight);
      if (head_refused)
        {
          waiting--;
          head_refused = FALSE;
        }
      else
        head_refused = TRUE;
    }
  for (guint i = 0; i < taken; i++)
    {
      bus->answers++;
      os_notify_window_answered (window);
    }
  return taken;
}

static void
test_starts_and_stays_wide (void)
{
  OsNotifyWindow window;
  Bus bus = { .capacity = 50000 };

  os_notify_window_init (&window, 1024);
  g_assert_cmpuint (window.size, ==, 1024);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpuint (round_trip (&bus, &window, 3000), ==, 1024);
  g_assert_cmpuint (bus.refusals, ==, 0);
  g_assert_cmpuint (window.size, ==, 1024);
}

/* A bus of 128 (GTestDBus's, the system bus's): one refusal teaches the window, and after
 * that the bus refuses one call in about every window's worth, as the window feels for
 * room again. */
static void
test_learns_the_limit (void)
{
  OsNotifyWindow window;
  Bus bus = { .capacity = 128 };

  os_notify_window_init (&window, 1024);
  g_assert_cmpuint (round_trip (&bus, &window, 1000), ==, 128);
  g_assert_cmpuint (window.threshold, ==, 128);
  g_assert_cmpuint (window.size, ==, 129); /* 128 answers later, one more */
  bus.refusals = 0;
  bus.answers = 0;
  for (guint i = 0; i < 100; i++)
    {
      g_assert_cmpuint (round_trip (&bus, &window, 1000), ==, 128);
      g_assert_cmpuint (window.size, >=, 128);
      g_assert_cmpuint (window.size, <=, 129);
    }
  g_assert_cmpuint (bus.refusals, <=, bus.answers / 100);
}

/* The bus holds all its room for calls that timed out: every call is refused with none in
 * flight, and the window drops to one. Once the room is back, it doubles back to where it
 * was within a few rounds, not one call at a time. */
static void
test_recovers_after_a_full_bus (void)
{
  OsNotifyWindow window;
  Bus bus = { .capacity = 1000000, .held = 1000000 };
  guint rounds = 0;

  os_notify_window_init (&window, 1024);
  g_assert_cmpuint (round_trip (&bus, &window, 10), ==, 0);
  g_assert_cmpuint (window.size, ==, 1);
  g_assert_cmpuint (window.threshold, ==, 1024);

  bus.held = 0;
  while (window.size < 1024)
    {
      round_trip (&bus, &window, 2000);
      rounds++;
      g_assert_cmpuint (rounds, <=, 11);
    }
  /* Only the ten calls of the full bus were refused, each twice, and then given up. */
  g_assert_cmpuint (bus.refusals, ==, 2 * 10);
}

/* It never goes beyond where it started, whatever it hears. */
static void
test_never_beyond_start (void)
{
  OsNotifyWindow window;

  os_notify_window_init (&window, 64);
  for (guint i = 0; i < 10000; i++)
    os_notify_window_answered (&window);
  g_assert_cmpuint (window.size, ==, 64);
  os_notify_window_refused (&window, 10);
  for (guint i = 0; i < 100000; i++)
    os_notify_window_answered (&window);
  g_assert_cmpuint (window.size, ==, 64);
  os_notify_window_refused (&window, 0);
  g_assert_cmpuint (window.size, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notify-window/starts-and-stays-wide", test_starts_and_stays_wide);
  g_test_add_func ("/notify-window/learns-the-limit", test_learns_the_limit);
  g_test_add_func ("/notify-window/recovers-after-a-full-bus", test_recovers_after_a_full_bus);
  g_test_add_func ("/notify-window/never-beyond-start", test_never_beyond_start);
  return g_test_run ();
}
