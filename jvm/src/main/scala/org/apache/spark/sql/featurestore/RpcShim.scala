package org.apache.spark.sql.featurestore

import scala.concurrent.duration._

import org.apache.spark.SparkEnv
import org.apache.spark.rpc.{RpcCallContext, RpcEndpointRef, RpcEnv, RpcTimeout, ThreadSafeRpcEndpoint}
import org.apache.spark.util.RpcUtils

/**
 * The connector's one door into Spark's package-private RPC (hence this package): an endpoint on the driver and
 * a reference to it from an executor, over the RPC environment Spark already runs between them. No logic here:
 * the callers decide what is said. The calls used (`RpcEnv.setupEndpoint`, `ThreadSafeRpcEndpoint`,
 * `RpcUtils.makeDriverRef(name, conf, rpcEnv)`, `RpcEndpointRef.askSync/send`, `new RpcTimeout(duration, prop)`)
 * are the same on Spark 3.5 and 4.2 (checked with javap on each line's jars).
 */
object RpcShim {

  /**
   * The RPC environment of this JVM's SparkEnv, as an opaque token (a new SparkContext has a new one), or null
   * outside Spark.
   */
  def rpcEnvToken: AnyRef = Option(SparkEnv.get).map(_.rpcEnv).orNull

  /** This JVM's executor id ("driver" on the driver, and for tasks of a local master), or null outside Spark. */
  def executorId: String = Option(SparkEnv.get).map(_.executorId).orNull

  /**
   * Registers endpoint `name` on this JVM's RPC environment (call it on the driver). Messages are handled one at a
   * time: `answer` replies to asks, and handles one-way messages too (its result then dropped). Returns the token
   * of the environment it was registered on. Throws if `name` is already registered there.
   */
  def setupEndpoint(name: String, answer: Any => Any): AnyRef = {
    val env = SparkEnv.get.rpcEnv
    env.setupEndpoint(name, new ThreadSafeRpcEndpoint {
      override val rpcEnv: RpcEnv = env
      override def receive: PartialFunction[Any, Unit] = { case message => answer(message) }
      override def receiveAndReply(context: RpcCallContext): PartialFunction[Any, Unit] = {
        case message => context.reply(answer(message))
      }
    })
    env
  }

  /** A reference from this JVM to endpoint `name` on the driver (one lookup call to the driver). */
  def driverEndpoint(name: String): DriverEndpoint = {
    val env = SparkEnv.get
    new DriverEndpoint(name, RpcUtils.makeDriverRef(name, env.conf, env.rpcEnv), env.rpcEnv)
  }

  final class DriverEndpoint private[RpcShim] (val name: String, ref: RpcEndpointRef, env: RpcEnv) {

    /** The environment token this reference belongs to (see [[rpcEnvToken]]). */
    def rpcEnvToken: AnyRef = env

    /** Asks and waits for the answer; throws on timeout or when the endpoint failed. */
    def ask(message: Any, timeoutMs: Long): Any =
      ref.askSync[Any](message, new RpcTimeout(timeoutMs.millis, "featurestore.rateCeiling.askTimeout"))

    /** One-way: no answer, no wait. */
    def send(message: Any): Unit = ref.send(message)
  }
}
