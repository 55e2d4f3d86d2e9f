package featurestore.spark;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libfeaturestore_jni once per class loader.
 *
 * <p>Order: {@code java.library.path} first (a developer's override: {@code -Djava.library.path=DIR}); else the
 * library bundled in the jar under {@code native/<os>-<arch>/}, copied to a unique temporary file (so that two
 * class loaders, or two Spark applications on one host, never share a file), loaded with {@link System#load},
 * and deleted right away (the mapping stays valid on Linux). If loading fails, the error is kept and every
 * later {@link #load()} throws it again with context, instead of a bare {@code UnsatisfiedLinkError} from the
 * first native call.
 */
public final class NativeLibrary {
  static final String NAME = "featurestore_jni";

  private static final Object LOCK = new Object();
  private static volatile boolean loaded;
  private static volatile UnsatisfiedLinkError failure;
  private static volatile String loadedFrom;

  private NativeLibrary() {}

  /** Loads the library if this class loader has not yet; cheap once loaded. */
  public static void load() {
    if (loaded) {
      return;
    }
    synchronized (LOCK) {
      if (loaded) {
        return;
      }
      if (failure == null) {
        try {
          loadedFrom = loadOnce();
          loaded = true;
          NativeBridge.afterLoad();
          return;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
          UnsatisfiedLinkError error =
              new UnsatisfiedLinkError("the featurestore native library could not be loaded: " + e.getMessage());
          error.initCause(e);
          failure = error;
          throw error;
        }
      }
      UnsatisfiedLinkError again = new UnsatisfiedLinkError(
          "the featurestore native library failed to load earlier in this JVM (os.name="
              + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch")
              + "): " + failure.getMessage());
      again.initCause(failure);
      throw again;
    }
  }

  /** Where the library was loaded from ("java.library.path" or the jar's resource), for diagnostics. */
  public static String loadedFrom() {
    return loadedFrom;
  }

  /** The jar's resource folder for this machine, e.g. {@code native/linux-x86_64}. */
  static String resourceFolder() {
    return "native/" + osName() + "-" + archName();
  }

  private static String loadOnce() {
    UnsatisfiedLinkError fromPath;
    try {
      System.loadLibrary(NAME);
      return "java.library.path";
    } catch (UnsatisfiedLinkError e) {
      fromPath = e;
    }
    String resource = resourceFolder() + "/" + System.mapLibraryName(NAME);
    try (InputStream in = NativeLibrary.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError(
            "the jar has no native library for this platform (" + resource + "; built for native/linux-x86_64),"
                + " and java.library.path has none: " + fromPath.getMessage());
      }
      Path file = Files.createTempFile(tempDir(), "lib" + NAME + "-", ".so");
      try {
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        System.load(file.toAbsolutePath().toString());
      } finally {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          file.toFile().deleteOnExit();
        }
      }
      return "jar:" + resource;
    } catch (IOException e) {
      throw new UnsatisfiedLinkError("could not extract " + resource + " to a temporary file: " + e);
    }
  }

  private static Path tempDir() {
    String dir = System.getProperty("featurestore.native.tmpdir", System.getProperty("java.io.tmpdir"));
    return Paths.get(dir);
  }

  private static String osName() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (os.startsWith("linux")) {
      return "linux";
    }
    if (os.startsWith("mac") || os.startsWith("darwin")) {
      return "macos";
    }
    if (os.startsWith("windows")) {
      return "windows";
    }
    return os.replaceAll("[^a-z0-9]", "");
  }

  private static String archName() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    switch (arch) {
      case "amd64":
      case "x86_64":
        return "x86_64";
      case "aarch64":
      case "arm64":
        return "aarch64";
      default:
        return arch.replaceAll("[^a-z0-9_]", "");
    }
  }
}
