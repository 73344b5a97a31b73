console.log("shipshape demo");
