package featurestore.spark

import java.util.concurrent.ConcurrentLinkedQueue

import scala.collection.JavaConverters._

import org.apache.logging.log4j.Level
import org.apache.logging.log4j.core.{LogEvent, LoggerContext}
import org.apache.logging.log4j.core.appender.AbstractAppender
import org.apache.logging.log4j.core.config.Property

/** Captures what reaches log4j (the executor's log) under a logger prefix, while `body` runs. */
object LogCapture {
  final case class Line(logger: String, level: Level, message: String)

  def during[T](loggerPrefix: String)(body: => T): (T, Seq[Line]) = {
    val lines = new ConcurrentLinkedQueue[Line]()
    val appender = new AbstractAppender("capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY) {
      override def append(event: LogEvent): Unit =
        if (event.getLoggerName.startsWith(loggerPrefix)) {
          lines.add(Line(event.getLoggerName, event.getLevel, event.getMessage.getFormattedMessage))
        }
    }
    appender.start()
    val context = LoggerContext.getContext(false)
    val root = context.getConfiguration.getRootLogger
    root.addAppender(appender, Level.ALL, null)
    context.updateLoggers()
    try {
      val result = body
      (result, lines.asScala.toList)
    } finally {
      root.removeAppender(appender.getName)
      context.updateLoggers()
      appender.stop()
    }
  }
}
