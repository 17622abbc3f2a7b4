package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;

class BearerAuthTest {

    @Test
    void withoutATokenEveryRequestPasses() {
        assertThat(new BearerAuth(null).allows(null, null)).isTrue();
        assertThat(new BearerAuth("").allows("Bearer anything", null)).isTrue();
    }

    @Test
    void theHeaderMustCarryTheTokenAfterTheBearerSchemeInAnyCase() {
        BearerAuth auth = new BearerAuth("s3cret");

        assertThat(auth.allows("Bearer s3cret", null)).isTrue();
        assertThat(auth.allows("bearer  s3cret ", null)).isTrue();
        assertThat(auth.allows("Bearer s3cre", null)).isFalse();
        assertThat(auth.allows("Bearer s3cret2", null)).isFalse();
        assertThat(auth.allows("Basic s3cret", null)).isFalse();
        assertThat(auth.allows(null, null)).isFalse();
    }

    @Test
    void aTokenCarriedElsewhereCountsOnlyWithoutABearerHeader() {
        BearerAuth auth = new BearerAuth("s3cret");

        assertThat(auth.allows(null, "s3cret")).isTrue();
        assertThat(auth.allows("Bearer wrong", "s3cret")).isFalse();
        assertThat(auth.allows(null, "wrong")).isFalse();
    }

    @Test
    void requestsToOtherInstancesCarryTheTokenWhenThereIsOne() {
        HttpRequest.Builder signed = HttpRequest.newBuilder(URI.create("http://peer:8080/"));
        new BearerAuth("s3cret").sign(signed);
        HttpRequest.Builder open = HttpRequest.newBuilder(URI.create("http://peer:8080/"));
        new BearerAuth(null).sign(open);

        assertThat(signed.build().headers().firstValue("Authorization")).hasValue("Bearer s3cret");
        assertThat(open.build().headers().firstValue("Authorization")).isEmpty();
    }
}
