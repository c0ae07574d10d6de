/**
 * Internal to fedlink, not API: public only so fedlink's own packages and modules can share it (the BouncyCastle
 * PEM forms, the enrollment server's access to its authority). It may change in any release without notice; an
 * embedder uses {@code io.fedlink.pki} and {@code io.fedlink.pki.enroll}.
 */
package io.fedlink.pki.internal;
